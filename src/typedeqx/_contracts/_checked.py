"""`@checked`: shape contracts on Module classes and functions.

On a Module subclass it installs two hooks that the Module metaclass calls:
`__typedeqx_class_hook__` (every subclass, at creation: wrap its annotated methods)
and `__typedeqx_check_fields__` (every instance, after `__init__` and converters,
before `__check_init__`). On a plain function it wraps the function. The wrappers
check on a memo miss only; see README.md in this folder.
"""

import functools
import inspect
import os
import typing
from collections.abc import Callable
from typing import Any, TypeVar, overload

from .._module import Module, binds_as_pytree, is_method, transformed
from ._call import BoundPlan, CallPlan
from ._plan import UnresolvedAnnotations, class_plan, discard_plan, opted_in
from ._switch import VALUES, checks_enabled

_Class = TypeVar("_Class", bound=type)
_C = TypeVar("_C", bound=Callable[..., Any])

try:  # JAX drops frames from excluded paths when an error crosses jit/vmap/grad,
    # so a ShapeError raised while tracing ends at the user's call.
    from jax._src import traceback_util

    _here = os.path.dirname(os.path.abspath(__file__))
    traceback_util.register_exclusion(_here)
    traceback_util.register_exclusion(os.path.join(os.path.dirname(_here), "_module"))
except (ImportError, AttributeError):  # pragma: no cover - private JAX API moved
    pass


@overload
def checked(obj: _Class) -> _Class: ...
@overload
def checked(obj: _C) -> _C: ...
def checked(obj: Any) -> Any:
    """Check the jaxtyping annotations of a Module class or a function at runtime.

    On a `Module` subclass: every annotated field is checked after `__init__`, and
    `__call__` and every other annotated method at each call, with `self`'s fields
    binding their dimension names (static int fields bind the dimension of their
    own name) before the arguments and the return value are checked against the
    same bindings. Subclasses are checked too. On a function: the arguments and
    return value, with dimensions shared between them (like
    `jaxtyping.jaxtyped(typechecker=beartype)`).

    Under `jax.jit`, `vmap`, `grad` and `lax.scan` the checks run on tracers at trace
    time. A failure raises [`ShapeError`][].

    **Arguments:**

    - `obj`: a `Module` subclass or a function.

    **Returns:**

    The class itself (with hooks installed), or a wrapped function.

    ```python
    import typedeqx
    from jaxtyping import Array, Float

    @typedeqx.checked
    class Linear(typedeqx.Module):
        weight: Float[Array, "out in"]

        def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
            return self.weight @ x
    ```
    """
    if isinstance(obj, type):
        if not issubclass(obj, Module):
            raise ValueError(
                f"typedeqx.checked applies to Module subclasses and functions; got the "
                f"class {obj.__qualname__}. Subclass typedeqx.Module."
            )
        setattr(obj, "__typedeqx_class_hook__", staticmethod(_prepare_class))
        setattr(obj, "__typedeqx_check_fields__", staticmethod(_check_fields))
        discard_plan(obj)  # made at class creation, before `obj` opted in
        _adopt_inherited(obj)
        _prepare_class(obj)
        return obj
    inside = transformed(obj)
    if inside is not None:  # checks go inside the transformation
        func, rewrap = inside
        if getattr(func, "__typedeqx_checked__", False):
            return obj
        return rewrap(_wrap_function(func))
    if callable(obj):
        return _wrap_function(obj)
    raise ValueError(
        f"typedeqx.checked applies to Module subclasses and functions; got "
        f"{type(obj).__name__}."
    )


def _prepare_class(cls: type) -> None:
    """Wrap the annotated methods defined in `cls`'s own body, if `cls` opted in.

    The hook also runs for every undecorated subclass of a checked class (a user's
    `class StateSequential(nn.Sequential)`): such a class keeps the contracts it
    inherits (checked fields, inherited checked methods), but its own methods are
    the user's code, written for Equinox, and are not checked.
    """
    if opted_in(cls):
        for name, value in list(cls.__dict__.items()):
            inside = _checkable(name, value)
            if inside is not None:
                func, rewrap = inside
                setattr(cls, name, rewrap(_wrap_method(func, cls)))
    try:  # compile now when the annotations resolve; otherwise on first use
        class_plan(cls)
    except UnresolvedAnnotations:  # a forward reference, defined by first use
        pass


def _adopt_inherited(cls: type) -> None:
    """Check the annotated methods `cls` inherits from unchecked Module bases too: the
    decorated class is where the user opted in."""
    for base in cls.__mro__[1:]:
        for name, value in base.__dict__.items():
            if name in cls.__dict__ or _checkable(name, value) is None:
                continue
            if inspect.getattr_static(cls, name) is value:
                setattr(cls, name, value)


def _unchanged(func: Callable[..., Any]) -> Callable[..., Any]:
    return func


def _checkable(
    name: str, value: Any
) -> tuple[Callable[..., Any], Callable[[Callable[..., Any]], Any]] | None:
    """A class-body member whose checks `checked` adds: an annotated method not
    yet checked, plain or inside filtered transformations (`@filter_jit` on
    `__call__`). Returns the method and how to put the checked one back in place
    of `value`."""
    found: tuple[Callable[..., Any], Callable[[Callable[..., Any]], Any]] | None
    if is_method(name, value):
        found = (value, _unchanged)
    else:
        found = transformed(value) if binds_as_pytree(name) else None
    if found is None:
        return None
    func = found[0]
    if not getattr(func, "__annotations__", None):
        return None
    if getattr(func, "__typedeqx_checked__", False):
        return None
    return found


def _check_fields(obj: Any) -> None:
    __tracebackhide__ = True
    if checks_enabled():
        class_plan(type(obj)).check_init(obj)


def _wrap_method(func: Callable[..., Any], owner: type) -> Callable[..., Any]:
    plans: dict[type, BoundPlan] = {}
    call: list[CallPlan] = []

    def bind(cls: type) -> BoundPlan:
        if not call:
            call.append(CallPlan(func, owner, method=True))
        plan = plans[cls] = BoundPlan(call[0], class_plan(cls))
        return plan

    @functools.wraps(func)
    def checked_method(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        state = checks_enabled()
        if not state:
            return func(self, *args, **kwargs)
        plan = plans.get(type(self)) or bind(type(self))
        if state is VALUES:  # value checks (typedeqx._values) wrap the call
            return VALUES.call(plan.run, func, self, args, kwargs)
        return plan.run(func, self, args, kwargs)

    setattr(checked_method, "__typedeqx_checked__", True)
    # For `call_dimensions` (summaries): the plan of a class, built on first use.
    setattr(
        checked_method, "__typedeqx_plan__", lambda cls: plans.get(cls) or bind(cls)
    )
    return checked_method


def _wrap_function(func: _C) -> _C:
    plan: list[BoundPlan] = []

    @functools.wraps(func)
    def checked_function(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        state = checks_enabled()
        if not state:
            return func(*args, **kwargs)
        if not plan:
            plan.append(BoundPlan(CallPlan(func, None, method=False), None))
        if state is VALUES:  # value checks (typedeqx._values) wrap the call
            return VALUES.call(plan[0].run, func, None, args, kwargs)
        return plan[0].run(func, None, args, kwargs)

    setattr(checked_function, "__typedeqx_checked__", True)
    return typing.cast(_C, checked_function)
