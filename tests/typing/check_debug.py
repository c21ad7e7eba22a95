"""typedeqx.debug: decorators keep the signature, identities keep the type."""

from typing import assert_type

import jax.numpy as jnp
from jax import Array

import typedeqx as eqx


@eqx.debug.assert_max_traces(max_traces=1)
def f(x: Array, n: int) -> Array:
    return x * n


def g(x: Array) -> float:
    return 1.0


assert_type(f(jnp.ones(2), 3), Array)
assert_type(eqx.debug.assert_max_traces(g, max_traces=None)(jnp.ones(2)), float)
assert_type(eqx.debug.get_num_traces(f), int)
f(jnp.ones(2), "3")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.debug.assert_max_traces(g)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]

x = jnp.ones(3)
tree = {"a": x}
assert_type(eqx.debug.backward_nan(x, name="x", terminate=False), Array)
assert_type(eqx.debug.announce_transform(tree, intermediates=True), dict[str, Array])
assert_type(eqx.debug.store_dce((x, x), name="here"), tuple[Array, Array])
assert_type(eqx.debug.inspect_dce("here"), None)
eqx.debug.breakpoint_if(x > 1, num_frames=2)
eqx.debug.announce_transform(x, announce=lambda s: None)
