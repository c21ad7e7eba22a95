"""Methods of a Module, looked up on an instance, are PyTrees.

`model.__call__` is a `BoundMethod` whose single child is the module, so
`jax.tree_util.tree_leaves(model.__call__)` are the model's leaves and
`filter_jit(model.__call__)` traces its arrays instead of baking them in.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, cast

import jax.tree_util as jtu


class BoundMethod:
    """A function bound to a module, registered as a PyTree with the module as child.

    Two bound methods are equal when they bind the same function to the same
    module object, as for Python's own bound methods.
    """

    __slots__ = ("__func__", "__self__")

    __func__: Callable[..., Any]
    __self__: Any

    def __init__(self, func: Callable[..., Any], instance: Any) -> None:
        object.__setattr__(self, "__func__", func)
        object.__setattr__(self, "__self__", instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__func__(self.__self__, *args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"BoundMethod is immutable; cannot set {name!r}.")

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is BoundMethod
            and self.__func__ is other.__func__
            and self.__self__ is other.__self__
        )

    def __hash__(self) -> int:
        return hash((self.__func__, id(self.__self__)))

    @property
    def __name__(self) -> str:
        return getattr(self.__func__, "__name__", "method")

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self.__func__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    def __repr__(self) -> str:
        name = getattr(self.__func__, "__qualname__", self.__name__)
        return f"<bound method {name} of {type(self.__self__).__name__}>"


_SELF_KEY = jtu.GetAttrKey("__self__")

jtu.register_pytree_with_keys(
    BoundMethod,
    lambda m: (((_SELF_KEY, m.__self__),), m.__func__),
    lambda func, children: BoundMethod(func, *children),
    flatten_func=lambda m: ((m.__self__,), m.__func__),
)


class MethodDescriptor:
    """Class-body wrapper whose instance lookup returns a [`BoundMethod`][].

    Looked up on the class it returns the plain function, so
    `Class.method(instance, ...)` and `inspect.signature(Class.method)` behave as
    usual.
    """

    __slots__ = ("__func__", "__dict__")

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__func__ = func
        functools.update_wrapper(cast(Any, self), func)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self.__func__
        return BoundMethod(self.__func__, instance)


def wants_wrapping(name: str, value: Any) -> bool:
    """Whether a class-body member is a method to expose as a PyTree when bound."""
    is_function = inspect.isfunction(value)
    return is_function and (not name.startswith("__") or name == "__call__")
