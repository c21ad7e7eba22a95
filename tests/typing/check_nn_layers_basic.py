"""Normalisation, dropout, embedding, PReLU and recurrent cells are typed."""

from typing import assert_type

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones(3)

# Normalisation
layer_norm = eqx.nn.LayerNorm((2, 3), eps=1e-3, use_bias=False, dtype=jnp.bfloat16)
assert_type(layer_norm(jnp.ones((2, 3))), Array)
assert_type(layer_norm(np.ones((2, 3)), key=key), Array)
assert_type(layer_norm.shape, tuple[int, ...])
assert_type(layer_norm.weight, Array | None)
assert_type(eqx.nn.LayerNorm(3, elementwise_affine=False), eqx.nn.LayerNorm)
assert_type(eqx.nn.RMSNorm(3)(x), Array)
group_norm = eqx.nn.GroupNorm(2, 4, channelwise_affine=True)
assert_type(group_norm(jnp.ones((4, 5))), Array)
assert_type(group_norm.channels, int | None)
assert_type(eqx.nn.GroupNorm(2, channelwise_affine=False).groups, int)
eqx.nn.LayerNorm("3")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.nn.GroupNorm(channels=4)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
layer_norm([1.0, 2.0])  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
assert_type(layer_norm(x, "state"), tuple[Array, str])
layer_norm.eps = 1.0  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

# Dropout
dropout = eqx.nn.Dropout(0.1)
assert_type(dropout(x, key=key), Array)
assert_type(dropout(x, inference=True), Array)
assert_type(dropout.inference, bool)
assert_type(dropout.deterministic, bool)
assert_type(eqx.nn.inference_mode(dropout), eqx.nn.Dropout)
dropout(x, key)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

# Embedding
embedding = eqx.nn.Embedding(10, 4, key=key)
assert_type(embedding(3), Array)
assert_type(embedding(jnp.asarray(3)), Array)
assert_type(eqx.nn.Embedding(weight=jnp.ones((10, 4))).num_embeddings, int)
embedding("3")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# PReLU
prelu = eqx.nn.PReLU(init_alpha=0.1)
assert_type(prelu(x), Array)
assert_type(prelu.negative_slope, Array)
prelu(x, key=key)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

# Recurrent cells
gru = eqx.nn.GRUCell(3, 4, use_bias=False, key=key)
assert_type(gru(x, jnp.zeros(4)), Array)
assert_type(gru.bias_n, Array | None)
lstm = eqx.nn.LSTMCell(3, 4, dtype=jnp.float32, key=key)
h, c = lstm(x, (jnp.zeros(4), jnp.zeros(4)))
assert_type(lstm(x, (h, c)), tuple[Array, Array])
assert_type(lstm.hidden_size, int)
eqx.nn.GRUCell(3, 4)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
lstm(x, jnp.zeros(4))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
