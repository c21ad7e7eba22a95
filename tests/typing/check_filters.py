# ruff: noqa: B018
"""filter, partition, combine and apply_updates keep the tree's type."""

from typing import Any, assert_type

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array

import typedeqx as eqx

mlp = eqx.nn.MLP(2, 2, 4, 1, key=jr.PRNGKey(0))

params, static = eqx.partition(mlp, eqx.is_array)
assert_type(params, eqx.nn.MLP)
assert_type(static, eqx.nn.MLP)
assert_type(eqx.combine(params, static), eqx.nn.MLP)
assert_type(eqx.filter(mlp, eqx.is_inexact_array), eqx.nn.MLP)
assert_type(eqx.filter(mlp, eqx.is_array, inverse=True, replace=0), eqx.nn.MLP)
assert_type(
    eqx.partition({"a": jnp.ones(2)}, True), tuple[dict[str, Array], dict[str, Array]]
)
assert_type(eqx.apply_updates(mlp, params), eqx.nn.MLP)
assert_type(eqx.tree_inference(mlp, True), eqx.nn.MLP)
assert_type(eqx.tree_equal(mlp, mlp), bool | Array)
assert_type(eqx.tree_pformat(mlp, width=40), str)


# A filter spec may be a PyTree prefix of the tree (the usual way to freeze layers).
def frozen(leaf: object) -> bool:
    return False


spec = eqx.tree_at(
    lambda m: m.layers[0].weight, jax.tree_util.tree_map(frozen, mlp), True
)
assert_type(eqx.partition(mlp, spec), tuple[eqx.nn.MLP, eqx.nn.MLP])

# Halves from partition are the tree's type, not arrays, and cannot be combined
# with another type of tree.
weights: Array = params  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
params.layers[0].wieght  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
eqx.partition(mlp)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def use_linear(linear: eqx.nn.Linear) -> None: ...


use_linear(params)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.tree_pformat(mlp, 40)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


# The array predicates narrow.
def total(leaf: Any) -> float:
    if eqx.is_array(leaf):
        assert_type(leaf, Array | np.ndarray[Any, Any] | np.generic)
        return float(leaf.sum())
    return 0.0


def as_array(leaf: int | Array) -> Array:
    if eqx.is_array(leaf):
        return leaf
    assert_type(leaf, int)
    return jnp.asarray(leaf)
