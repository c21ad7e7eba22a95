"""`MethodDescriptor`: how a method in a Module class body binds to an instance.

It sits below `Module` (the metaclass wraps methods with it); the `BoundMethod` it
returns is a Module itself, defined in `_method.py` on top of `Module`.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, cast

from ._flatten import WRAPPER_FIELD_NAMES

_new = object.__new__


def wrapper_attributes(func: Any) -> tuple[tuple[str, Any], ...]:
    """The `__name__`, `__doc__`, ... of `func` that a bound method carries, as
    `functools.wraps` would copy them."""
    return tuple(
        (name, getattr(func, name))
        for name in WRAPPER_FIELD_NAMES
        if hasattr(func, name)
    )


class MethodDescriptor:
    """Class-body wrapper whose instance lookup returns a [`BoundMethod`][].

    Looked up on the class it returns the plain function, so
    `Class.method(instance, ...)` and `inspect.signature(Class.method)` behave as
    usual.
    """

    __slots__ = ("__func__", "__dict__")

    bound_class: ClassVar[type]  # `BoundMethod`, set once it is defined on Module

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__func__ = func
        functools.update_wrapper(cast(Any, self), func)
        self.wrapper_attrs = wrapper_attributes(func)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self.__func__
        # Built like an unflattened PyTree: nothing to check, and this is hot.
        bound: Any = _new(self.bound_class)
        d = bound.__dict__
        d["__func__"] = self.__func__
        d["__self__"] = instance
        d.update(self.wrapper_attrs)
        return bound


def wants_wrapping(name: str, value: Any) -> bool:
    """Whether a class-body member is a method to expose as a PyTree when bound."""
    is_function = inspect.isfunction(value)
    return is_function and (not name.startswith("__") or name == "__call__")
