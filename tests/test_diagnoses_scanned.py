"""Full paths through a stack of blocks built with `filter_vmap` and run with
`lax.scan` (as in examples/gpt.py): `GPT.blocks[*].norm (scanned over 4)`, not
`Block.norm`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jax import lax

import typedeqx as eqx
from diagnose import message


class Block(eqx.Module):
    norm: eqx.nn.LayerNorm
    attn: eqx.nn.MultiheadAttention

    def __init__(self, d, key):
        self.norm = eqx.nn.LayerNorm(d)
        self.attn = eqx.nn.MultiheadAttention(2, d, key=key)

    def __call__(self, x):
        h = jax.vmap(self.norm)(x)
        return x + self.attn(h, h, h)


@eqx.checked
class GPT(eqx.Module):
    blocks: Block

    def __init__(self, d, key):
        self.blocks = eqx.filter_vmap(lambda k: Block(d, k))(jr.split(key, 4))

    def __call__(self, x):
        dynamic, static = eqx.partition(self.blocks, eqx.is_array)

        def layer(h, arrays):
            return eqx.combine(arrays, static)(h), None

        return lax.scan(layer, x, dynamic)[0]


class Ensemble(eqx.Module):
    members: eqx.nn.Linear

    def __init__(self, key):
        self.members = eqx.filter_vmap(lambda k: eqx.nn.Linear(6, 2, key=k))(
            jr.split(key, 3)
        )

    def __call__(self, x):
        return eqx.filter_vmap(lambda m: m(x))(self.members)


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap"])
def test_a_scanned_stack_of_blocks(mode):
    text = message(mode, eqx.ShapeError, GPT(16, jr.PRNGKey(0)), jnp.ones((5, 8)))
    assert text == (
        "GPT.blocks[*].norm (LayerNorm.__call__, scanned over 4): argument x is "
        'f32[8], expected Float[Array, "*shape"] with *shape=(16,) (bound by static '
        "field shape) (its axes for *shape are (8,))"
    )


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_an_ensemble_mapped_with_filter_vmap(mode):
    text = message(mode, eqx.ShapeError, Ensemble(jr.PRNGKey(0)), jnp.ones(4))
    assert text == (
        "Ensemble.members[*] (Linear.__call__, mapped over 3): argument x is f32[4], "
        'expected Inexact[Array, "in_features"] with in_features=6 (bound by field '
        "weight f32[2,6])"
    )
