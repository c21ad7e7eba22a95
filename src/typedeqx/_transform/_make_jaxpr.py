"""`filter_make_jaxpr`: the jaxpr of a function of arbitrary PyTrees."""

from collections.abc import Callable
from typing import Any, ParamSpec

import jax
import jax.extend.core
import jax.tree_util as jtu

from .._filters import is_array
from ._split import is_traced_or_array, split_tree
from ._wrapper_base import TransformWrapper

_P = ParamSpec("_P")
_Result = tuple[jax.extend.core.ClosedJaxpr, Any, Any]


class _MakeJaxpr(TransformWrapper):
    def __call__(self, /, *args: Any, **kwargs: Any) -> _Result:
        fun = self.__wrapped__
        dynamic, split = split_tree((args, kwargs), is_traced_or_array)
        structure: list[Any] = []

        def call(*arrays: Any) -> list[Any]:
            a, k = split.rebuild(arrays)
            leaves, treedef = jtu.tree_flatten(fun(*a, **k))
            structure.append((treedef, [None if is_array(x) else x for x in leaves]))
            return [x for x in leaves if is_array(x)]

        jaxpr, shapes = jax.make_jaxpr(call, return_shape=True)(*dynamic)
        treedef, static = structure[-1]
        shape_iter = iter(shapes)
        dynamic_out = [next(shape_iter) if s is None else None for s in static]
        return (
            jaxpr,
            jtu.tree_unflatten(treedef, dynamic_out),
            jtu.tree_unflatten(treedef, static),
        )


def filter_make_jaxpr(fun: Callable[_P, Any]) -> Callable[_P, _Result]:
    """Trace `fun` to a jaxpr: arrays and `jax.ShapeDtypeStruct`s are traced, every
    other leaf is static.

    **Arguments:**

    - `fun`: any function of any PyTrees.

    **Returns:**

    A function taking `fun`'s arguments and returning a triple:

    - the `ClosedJaxpr` of `fun`, whose inputs are the traced leaves in order and
        whose outputs are the output arrays in order;
    - the output with a `jax.ShapeDtypeStruct` at each array and `None` at every
        other leaf;
    - the output with `None` at each array and every other leaf kept.
    """
    return _MakeJaxpr(fun)
