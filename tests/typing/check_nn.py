"""Every layer's constructor and `__call__` are typed."""

from collections.abc import Callable
from typing import Any, Literal, assert_type

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones(3)

# Linear
linear = eqx.nn.Linear(3, 4, key=key)
assert_type(linear, eqx.nn.Linear)
assert_type(
    eqx.nn.Linear("scalar", 4, use_bias=False, dtype=jnp.float16, key=key),
    eqx.nn.Linear,
)
assert_type(linear(x), Array)
assert_type(linear(x, key=key), Array)
assert_type(linear(np.ones(3, np.float32)), Array)
assert_type(linear.weight, Array)
assert_type(linear.bias, Array | None)
assert_type(linear.in_features, int | Literal["scalar"])
assert_type(linear.use_bias, bool)
eqx.nn.Linear(3, 4)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.nn.Linear(3, 4, key)  # type: ignore[call-arg, arg-type]  # pyright: ignore[reportCallIssue]
eqx.nn.Linear(3, "vector", key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.nn.Linear(in_size=3, out_size=4, key=key)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
linear([1.0, 2.0, 3.0])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
linear(x, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
linear.weight = x  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

# Identity returns what it is given.
identity = eqx.nn.Identity(3, anything="ignored")
assert_type(identity(x), Array)
same_numpy_array: np.ndarray[Any, Any] = identity(np.ones(3))
identity(1.0)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]

# MLP
mlp = eqx.nn.MLP(
    3, 2, 16, 2, activation=jax.nn.gelu, final_activation=jnp.tanh, key=key
)
assert_type(mlp(x), Array)
assert_type(mlp(np.ones(3)), Array)
assert_type(mlp.layers, tuple[eqx.nn.Linear, ...])
assert_type(mlp.layers[-1], eqx.nn.Linear)
assert_type(mlp.activation, Callable[..., Any])
assert_type(mlp.depth, int)
assert_type(
    eqx.nn.MLP("scalar", "scalar", 8, 0, use_bias=False, use_final_bias=False, key=key),
    eqx.nn.MLP,
)
eqx.nn.MLP(3, 2, 16, key=key)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.nn.MLP(3, 2, 16, 2.5, key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.nn.MLP(3, 2, 16, 2, activation="relu", key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
mlp.layers = ()  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

# Sequential and Lambda
seq = eqx.nn.Sequential(
    [linear, eqx.nn.Lambda(jax.nn.relu), eqx.nn.Linear(4, 2, key=key)]
)
assert_type(seq(x), Any)
assert_type(seq(x, key=key), Any)
assert_type(seq[0], Callable[..., Any])
assert_type(seq[1:], eqx.nn.Sequential)
assert_type(len(seq), int)
assert_type(list(seq), list[Callable[..., Any]])
assert_type(eqx.nn.Lambda(jnp.tanh).fn, Callable[..., Any])
assert_type(eqx.nn.Lambda(fn=jnp.tanh)(x), Any)
eqx.nn.Sequential(linear)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.nn.Sequential([1, 2])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
eqx.nn.Lambda()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
seq["0"]  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]

# Layers are Modules, so they go through the tree tools.
assert_type(
    eqx.tree_at(lambda s: s.layers[0], seq, eqx.nn.Identity()), eqx.nn.Sequential
)
module: eqx.Module = linear
