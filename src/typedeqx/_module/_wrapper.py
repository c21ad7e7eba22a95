"""`Partial` and `module_update_wrapper`: Modules that stand for a function."""

from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, cast

import jax.tree_util as jtu

from ._flatten import WRAPPER_FIELD_NAMES
from ._module import Module

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Partial(Module, Generic[_R]):
    """Like `functools.partial`, but a PyTree: the function and the bound arguments
    are its children, so arrays among them are leaves that transformations see.
    (Unlike `jax.tree_util.Partial`, `func` may be any callable, e.g. a Module.)"""

    func: Callable[..., _R]
    args: tuple[Any, ...]
    keywords: dict[str, Any]

    def __init__(self, func: Callable[..., _R], /, *args: Any, **kwargs: Any):
        """**Arguments:**

        - `func`: the callable to apply partially.
        - `*args`: positional arguments, passed before those given at call time.
        - `**kwargs`: keyword arguments, merged with those given at call time.
        """
        self.func = func
        self.args = args
        self.keywords = kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> _R:
        """Call `func` with the stored arguments, then `args` and `kwargs`."""
        return self.func(*self.args, *args, **kwargs, **self.keywords)


def module_update_wrapper(
    wrapper: Module, wrapped: Callable[_P, _R] | None = None
) -> Callable[_P, _R]:
    """`functools.update_wrapper` for Modules: return a copy of `wrapper` that has
    the name, qualified name, module, docstring and annotations of `wrapped`.

    The input is not modified. The attributes travel with the PyTree, so they
    survive `jax.jit` and the other transformations.

    **Arguments:**

    - `wrapper`: a Module instance whose class defines `__wrapped__` as a property
        (returning the wrapped callable, so that it is not stored twice).
    - `wrapped`: the callable being wrapped; by default `wrapper.__wrapped__`.

    **Returns:**

    The updated copy of `wrapper`.
    """
    cls = type(wrapper)
    if not isinstance(getattr(cls, "__wrapped__", None), property):
        raise ValueError(
            f"module_update_wrapper needs the wrapper class {cls.__name__} to define "
            "`__wrapped__` as a property returning the wrapped callable; got "
            f"{type(getattr(cls, '__wrapped__', None)).__name__}. Add "
            "`@property\ndef __wrapped__(self): return self.<field>`."
        )
    if wrapped is None:
        wrapped = cast(Any, wrapper).__wrapped__
    leaves, treedef = jtu.tree_flatten(wrapper)
    copy = jtu.tree_unflatten(treedef, leaves)
    for name in WRAPPER_FIELD_NAMES:
        try:
            value = getattr(wrapped, name)
        except AttributeError:
            continue
        copy.__dict__[name] = value
    return cast(Callable[_P, _R], copy)
