"""How a method looked up on a Module instance becomes a PyTree.

Methods stay plain functions in the class `__dict__` (as in Equinox), so code that
reads or replaces them there (`setattr(cls, name, wrap(cls.__dict__[name]))` in an
`__init_subclass__`, a decorator applied after class creation) sees what it expects.
`Module.__getattribute__` turns the bound method Python makes into a `BoundMethod`,
a Module whose one child is the instance.

This sits below `Module`; `BoundMethod` is defined on top of it in `_method.py` and
registered here once it exists.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ._flatten import WRAPPER_FIELD_NAMES

_new = object.__new__


class _Registry:
    # `BoundMethod` is a Module, so it cannot be imported here; `_method.py` sets it.
    bound_class: Any = None


def register_bound_class(cls: type) -> None:
    """Record the class that `bind` builds (called once, by `_method.py`)."""
    _Registry.bound_class = cls


def wrapper_attributes(func: Any) -> tuple[tuple[str, Any], ...]:
    """The `__name__`, `__doc__`, ... of `func` that a bound method carries, as
    `functools.wraps` would copy them."""
    return tuple(
        (name, getattr(func, name))
        for name in WRAPPER_FIELD_NAMES
        if hasattr(func, name)
    )


def bind(func: Any, instance: Any) -> Any:
    """`func` bound to `instance` as a `BoundMethod` PyTree.

    Built like an unflattened PyTree (straight into `__dict__`, no `__init__`):
    nothing needs checking, and method lookup is hot.
    """
    bound: Any = _new(_Registry.bound_class)
    d = bound.__dict__
    d["__func__"] = func
    d["__self__"] = instance
    d.update(wrapper_attributes(func))
    return bound


def binds_as_pytree(name: str) -> bool:
    """Whether a method called `name` binds as a PyTree: every name but the dunder
    protocol methods (which Python calls on the type, never through the instance),
    except `__call__`, so that `filter_jit(model.__call__)` sees the arrays."""
    is_magic = name.startswith("__") and name.endswith("__")
    return not is_magic or name == "__call__"


def is_method(name: str, value: Any) -> bool:
    """Whether class-body member `name` is a method whose instance lookup gives a
    `BoundMethod`: a plain function under a name that binds as a PyTree."""
    return inspect.isfunction(value) and binds_as_pytree(name)


_Rewrap = Callable[[Callable[..., Any]], Any]


def transformed(value: Any) -> tuple[Callable[..., Any], _Rewrap] | None:
    """For a filtered transformation of a plain function (`filter_jit(f)`, also
    nested, say `filter_jit(filter_vmap(f))`): `f`, and a function that transforms
    a replacement for `f` the same way, with the same settings. `None` for
    anything else.

    This is how `typedeqx.checked` puts a transformed method's checks inside the
    transformation, and how `typedeqx.summary` records such a method: through the
    wrappers' `__typedeqx_rewrap__(fun)` (see `_transform/_wrapper_base.py`).
    """
    rewrap = getattr(type(value), "__typedeqx_rewrap__", None)
    if rewrap is None:
        return None
    inner = value.__wrapped__
    if inspect.isfunction(inner):
        return inner, functools.partial(rewrap, value)
    deeper = transformed(inner)
    if deeper is None:
        return None
    func, rewrap_inner = deeper
    return func, lambda f: rewrap(value, rewrap_inner(f))
