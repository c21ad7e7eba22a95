"""Checkpoints keep the type of `like`; error_if keeps the type of `x`."""

import io
from typing import assert_type

import jax
import jax.numpy as jnp
import jax.random as jr

import typedeqx as eqx

mlp = eqx.nn.MLP(2, 2, 4, 1, key=jr.PRNGKey(0))
eqx.tree_serialise_leaves("model.eqx", mlp)
eqx.tree_serialise_leaves("model.eqx", mlp, durable=True)
eqx.tree_serialise_leaves("model.eqx", mlp, None, None, True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.tree_serialise_leaves("model.eqx", mlp, durable="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.tree_serialise_leaves(
    io.BytesIO(), mlp, filter_spec=eqx.default_serialise_filter_spec
)
assert_type(eqx.tree_deserialise_leaves("model.eqx", mlp), eqx.nn.MLP)
assert_type(eqx.tree_deserialise_leaves(io.BytesIO(), mlp), eqx.nn.MLP)
assert_type(eqx.tree_deserialise_leaves("model.eqx", mlp, strict=False), eqx.nn.MLP)
eqx.tree_deserialise_leaves("model.eqx", mlp, None, None, False)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.tree_deserialise_leaves("model.eqx", mlp, strict="no")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

x = jnp.ones(3)
assert_type(eqx.error_if(x, x > 1, "too big"), jax.Array)
assert_type(eqx.branched_error_if(x, x > 1, 0, ["a", "b"]), jax.Array)
eqx.error_if(x, x > 1, "m", on_error="loud")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.clear_caches()

try:
    pass
except (eqx.CheckpointError, eqx.EquinoxRuntimeError, eqx.EquinoxTracetimeError):
    pass
eqx.tree_deserialise_leaves(3, mlp)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
