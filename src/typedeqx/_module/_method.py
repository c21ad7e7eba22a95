"""Methods of a Module, looked up on an instance, are PyTrees.

`model.__call__` is a `BoundMethod`: a Module whose one child is the module, and
whose function is static. So `jax.tree_util.tree_leaves(model.__call__)` are the
model's leaves, `filter_jit(model.__call__)` traces its arrays instead of baking them
in, and two bound methods are equal when their functions are the same and their
modules are equal (`B().f == B().f`).
"""

import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from ._bind import register_bound_class, wrapper_attributes
from ._field import field
from ._module import Module

_R = TypeVar("_R")


class _CallsFunc:
    # Outside the Module body, so that `__call__` is not itself made a method PyTree.
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound: Any = self
        return bound.__func__(bound.__self__, *args, **kwargs)


class BoundMethod(Module, _CallsFunc, Generic[_R]):
    """A function bound to a module: a Module whose child is that module.

    Like Python's bound methods, but a PyTree: `__func__` is static (part of the
    tree structure) and `__self__` is its one child.
    """

    __func__: Callable[..., _R] = field(static=True)
    __self__: Any

    # Its own attributes are read on every call: skip Module's method binding.
    __getattribute__ = object.__getattribute__

    def __post_init__(self) -> None:
        for name, value in wrapper_attributes(self.__func__):
            setattr(self, name, value)

    @property
    def __wrapped__(self) -> Callable[..., _R]:
        """The plain Python bound method."""
        get = self.__func__.__get__
        return cast(Callable[..., _R], get(self.__self__, type(self.__self__)))

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self.__func__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    def __repr__(self) -> str:
        name = getattr(self.__func__, "__qualname__", "method")
        return f"<bound method {name} of {type(self.__self__).__name__}>"


register_bound_class(BoundMethod)
