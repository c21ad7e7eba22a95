"""MultiheadAttention, RotaryPositionalEmbedding, Shared and WeightNorm are typed."""

from typing import assert_type

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones((5, 8))

# MultiheadAttention
attention = eqx.nn.MultiheadAttention(2, 8, key=key)
assert_type(attention, eqx.nn.MultiheadAttention)
assert_type(
    eqx.nn.MultiheadAttention(
        4, 8, 6, 5, 3, qk_size=2, vo_size=3, use_query_bias=True, dropout_p=0.1,
        inference=True, dtype=jnp.bfloat16, key=key,
    ),
    eqx.nn.MultiheadAttention,
)  # fmt: skip
assert_type(attention(x, x, x), Array)
assert_type(attention(x, x, x, jnp.ones((5, 5), bool), key=key, inference=False), Array)
assert_type(attention(np.ones((5, 8)), x, x), Array)
assert_type(attention.query_proj, eqx.nn.Linear)
assert_type(attention.dropout, eqx.nn.Dropout)
assert_type(attention.num_heads, int)
eqx.nn.MultiheadAttention(2, 8)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.nn.MultiheadAttention(2.0, 8, key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
attention(x, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
attention(x, x, x, None, key)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
attention.num_heads = 3  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

# RotaryPositionalEmbedding, as process_heads
rope = eqx.nn.RotaryPositionalEmbedding(4, theta=500.0, dtype=jnp.float32)
assert_type(rope(jnp.ones((5, 4))), Array)
assert_type(rope.embedding_size, int)


def process_heads(q: Array, k: Array, v: Array) -> tuple[Array, Array, Array]:
    per_head = jax.vmap(rope, in_axes=1, out_axes=1)
    return per_head(q), per_head(k), v


assert_type(attention(x, x, x, process_heads=process_heads), Array)
attention(x, x, x, process_heads=lambda q: q)  # type: ignore[arg-type, misc]  # pyright: ignore[reportArgumentType]
eqx.nn.RotaryPositionalEmbedding("4")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# Shared keeps the type of its PyTree
pair = (eqx.nn.Linear(3, 3, key=key), eqx.nn.Linear(3, 3, key=key))
shared = eqx.nn.Shared(pair, lambda p: p[1].weight, lambda p: p[0].weight)
assert_type(shared, eqx.nn.Shared[tuple[eqx.nn.Linear, eqx.nn.Linear]])
assert_type(shared(), tuple[eqx.nn.Linear, eqx.nn.Linear])
shared(x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

# WeightNorm keeps the type of its layer
normed = eqx.nn.WeightNorm(eqx.nn.Linear(3, 2, key=key), axis=None)
assert_type(normed, eqx.nn.WeightNorm[eqx.nn.Linear])
assert_type(normed.layer, eqx.nn.Linear)
assert_type(normed(jnp.ones(3)), Array)
assert_type(normed.g, Array)
eqx.nn.WeightNorm(eqx.nn.Linear(3, 2, key=key), axis="0")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
