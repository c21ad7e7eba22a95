"""Stateful layers, State and MLP(scan=...) are typed."""

from typing import Any, Literal, assert_type

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones((3, 4))

# make_with_state keeps the constructor's signature.
bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
assert_type(bn, eqx.nn.BatchNorm)
assert_type(state, eqx.nn.State)
y, state = bn(x, state)
assert_type(y, Array)
assert_type(bn(x, state, inference=True), tuple[Array, eqx.nn.State])
assert_type(bn.mode, Literal["ema", "batch"])
eqx.nn.make_with_state(eqx.nn.BatchNorm)("3", "batch")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.nn.BatchNorm(3, "batch", mode="fast")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
bn(x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
bn.inference = True  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

# State: get/set keep the value's type; set returns a new State.
index = eqx.nn.StateIndex(jnp.zeros(2))
assert_type(index, eqx.nn.StateIndex[Array])
assert_type(state.get(index), Array)
assert_type(state.set(index, jnp.ones(2)), eqx.nn.State)
assert_type(state.substate(bn), eqx.nn.State)
assert_type(eqx.nn.delete_init_state(bn), eqx.nn.BatchNorm)
state.set("index", jnp.ones(2))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# SpectralNorm is generic in the layer it wraps.
linear = eqx.nn.Linear(3, 4, key=key)
sn = eqx.nn.SpectralNorm(linear, "weight", key=key)
assert_type(sn, eqx.nn.SpectralNorm[eqx.nn.Linear])
assert_type(sn.layer, eqx.nn.Linear)
assert_type(sn.is_stateful(), bool)
eqx.nn.SpectralNorm(linear, "weight")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

# Sequential returns the state only when given one.
seq = eqx.nn.Sequential([linear, bn])
assert_type(seq(x), Any)
assert_type(seq(x, state), tuple[Any, eqx.nn.State])
assert isinstance(seq, eqx.nn.StatefulLayer)

# MLP(scan=...) is keyword-only.
mlp = eqx.nn.MLP(3, 2, 8, 4, scan=True, key=key)
assert_type(mlp.scan, bool)
eqx.nn.MLP(3, 2, 8, 4, None, scan=True, key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
