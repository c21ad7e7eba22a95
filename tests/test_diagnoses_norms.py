"""Diagnoses of normalisation layers used without `vmap` over the other axes, in a
small model. Whole messages, every mode."""

import jax
import jax.numpy as jnp
import pytest

import typedeqx as eqx
from diagnose import MODES, message


class Tokens(eqx.Module):
    norm: eqx.nn.LayerNorm

    def __init__(self):
        self.norm = eqx.nn.LayerNorm(16)

    def __call__(self, x):
        return jax.nn.relu(self.norm(x))


class Images(eqx.Module):
    norm: eqx.nn.GroupNorm

    def __init__(self):
        self.norm = eqx.nn.GroupNorm(4, 16)

    def __call__(self, x):
        return self.norm(x)


@pytest.mark.parametrize("mode", MODES)
def test_a_layer_norm_over_a_sequence_without_vmap(mode):
    text = message(mode, eqx.ShapeError, Tokens(), jnp.ones((10, 16)))
    assert text == (
        "Tokens.norm (LayerNorm.__call__): argument x is f32[10,16], expected "
        'Float[Array, "*shape"] with *shape=(16,) (bound by static field shape) (its '
        "axes for *shape are (10, 16))\n"
        "  hint: x looks like a batch of 10 inputs of shape f32[16]. Map over it with "
        "jax.vmap: jax.vmap(model)(x) for a batch of Tokens inputs, or "
        "jax.vmap(self.norm)(x) inside Tokens."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_group_norm_given_a_batch(mode):
    # `*spatial` takes any rank, so a batch axis cannot be told from a spatial one:
    # the message names the channel contract and guesses no edit.
    text = message(mode, eqx.ShapeError, Images(), jnp.ones((5, 16, 8)))
    assert text == (
        "Images.norm (GroupNorm.__call__): argument x is f32[5,16,8], expected "
        'Float[Array, "channels *spatial"] with channels=16 (bound by static field '
        "channels)"
    )


def test_with_checks_off_a_layer_norm_still_refuses_the_wrong_shape():
    # As Equinox does (a ValueError), rather than normalising over the wrong axes.
    with eqx.checks(False):
        with pytest.raises(ValueError) as info:
            Tokens()(jnp.ones((10, 16)))
    assert str(info.value) == (
        "Tokens.norm (LayerNorm.__call__): argument x has shape (10, 16), expected "
        "shape=(16,). To normalise over some axes only, jax.vmap over the others."
    )
