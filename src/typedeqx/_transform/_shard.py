"""`filter_shard`: constrain or move the arrays of a PyTree, leaving the rest."""

from collections.abc import Callable
from typing import Any

import jax
import jax.tree_util as jtu

from .._filters import is_array
from ._split import split_tree

_constrain: Callable[[Any, Any], Any] = jax.lax.with_sharding_constraint


def _is_placement(x: Any) -> bool:
    return isinstance(x, (jax.Device, jax.sharding.Sharding))


def _as_sharding(x: Any) -> Any:
    if isinstance(x, jax.Device):
        return jax.sharding.SingleDeviceSharding(x)
    return x


def filter_shard(x: Any, device_or_shardings: Any) -> Any:
    """Place the arrays of `x` according to `device_or_shardings`.

    Inside `jit` this is a sharding constraint (`jax.lax.with_sharding_constraint`);
    outside it, the arrays are moved there. Non-array leaves are returned as they
    are.

    **Arguments:**

    - `x`: any PyTree.
    - `device_or_shardings`: a `jax.Device` or a `jax.sharding.Sharding` for every
        array, or a PyTree prefix of `x` with one of those at each leaf (and `None`
        where `x` has a non-array leaf).

    **Returns:**

    `x` with its arrays placed (same shapes and dtypes).
    """
    arrays, split = split_tree(x)
    if _is_placement(device_or_shardings):
        shardings: Any = _as_sharding(device_or_shardings)
    else:
        per_array: list[Any] = []

        def visit(placement: Any, subtree: Any) -> None:
            count = sum(map(is_array, jtu.tree_leaves(subtree)))
            per_array.extend([_as_sharding(placement)] * count)

        # As in Equinox, the prefix is matched against the arrays of `x` with every
        # other leaf replaced by `None`, so `None` stands for a non-array leaf.
        only_arrays = jtu.tree_map(lambda leaf: leaf if is_array(leaf) else None, x)
        jtu.tree_map(visit, device_or_shardings, only_arrays, is_leaf=_is_placement)
        shardings = per_array
    return split.rebuild(_constrain(arrays, shardings))
