"""Scan over layers: ten MLPs built with `filter_vmap`, called with `lax.scan`.

Run: `python examples/scan_over_layers.py`. The ten MLPs are stored as one MLP
whose arrays have a leading axis of 10, so JAX compiles one MLP body instead of
ten. The result equals calling the ten MLPs one after another.
"""

from operator import itemgetter

import jax
import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

import typedeqx as eqx

NUM_LAYERS = 10


class TenMLPs(eqx.Module):
    """Ten MLPs of equal width, applied in sequence."""

    mlps: eqx.nn.MLP

    def __init__(self, size: int, key: PRNGKeyArray):
        keys = jr.split(key, NUM_LAYERS)
        self.mlps = eqx.filter_vmap(lambda k: eqx.nn.MLP(size, size, size, 1, key=k))(
            keys
        )

    def __call__(self, x: Float[Array, " size"]) -> Float[Array, " size"]:
        dynamic, static = eqx.partition(self.mlps, eqx.is_array)

        def body(h: Array, layer: eqx.nn.MLP) -> tuple[Array, None]:
            return eqx.combine(layer, static)(h), None

        out, _ = lax.scan(body, x, dynamic)
        return out


def unrolled(model: TenMLPs, x: Array) -> Array:
    dynamic, static = eqx.partition(model.mlps, eqx.is_array)
    for i in range(NUM_LAYERS):
        layer = eqx.combine(jax.tree_util.tree_map(itemgetter(i), dynamic), static)
        x = layer(x)
    return x


def main() -> None:
    model_key, data_key = jr.split(jr.PRNGKey(0))
    model = TenMLPs(3, model_key)
    x = jr.normal(data_key, (3,))
    out = eqx.filter_jit(model)(x)
    print("scanned:", out)
    assert bool(jnp.allclose(out, unrolled(model, x), atol=1e-6))
    print("equal to the unrolled loop")


if __name__ == "__main__":
    main()
