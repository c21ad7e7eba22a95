"""Full paths through wrappers that call a layer they rebuilt for the call
(`WeightNorm`, `SpectralNorm`) or hand out (`Shared`): the error names where the
wrapper sits in the user's model, not only `WeightNorm > Linear`."""

import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx
from diagnose import message


class Weighted(eqx.Module):
    body: eqx.nn.Linear
    head: eqx.nn.WeightNorm

    def __init__(self, key):
        a, b = jr.split(key)
        self.body = eqx.nn.Linear(4, 8, key=a)
        self.head = eqx.nn.WeightNorm(eqx.nn.Linear(6, 2, key=b))

    def __call__(self, x):
        return self.head(self.body(x))


class Spectral(eqx.Module):
    body: eqx.nn.Linear
    head: eqx.nn.SpectralNorm

    def __init__(self, key):
        a, b = jr.split(key)
        self.body = eqx.nn.Linear(4, 8, key=a)
        self.head = eqx.nn.SpectralNorm(eqx.nn.Linear(6, 2, key=b), "weight", key=b)

    def __call__(self, x, state):
        return self.head(self.body(x), state)


class Tied(eqx.Module):
    tied: eqx.nn.Shared

    def __init__(self, key):
        a, b = jr.split(key)
        encode, decode = eqx.nn.Linear(4, 4, key=a), eqx.nn.Linear(4, 4, key=b)
        self.tied = eqx.nn.Shared(
            (encode, decode), lambda p: p[1].weight, lambda p: p[0].weight
        )

    def __call__(self, x):
        encode, decode = self.tied()
        return decode(encode(x)[:3])


_LINEAR = (
    'argument x is f32[8], expected Inexact[Array, "in_features"] with '
    "in_features=6 (bound by field weight f32[2,6])"
)


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap"])
def test_weight_norm(mode):
    text = message(mode, eqx.ShapeError, Weighted(jr.PRNGKey(0)), jnp.ones(4))
    assert text == f"Weighted.head (WeightNorm > Linear.__call__): {_LINEAR}"


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_spectral_norm(mode):
    model, state = eqx.nn.make_with_state(Spectral)(jr.PRNGKey(0))
    text = message(mode, eqx.ShapeError, model, jnp.ones(4), state)
    assert text == f"Spectral.head (SpectralNorm > Linear.__call__): {_LINEAR}"


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap", "scan"])
def test_shared(mode):
    text = message(mode, eqx.ShapeError, Tied(jr.PRNGKey(0)), jnp.ones(4))
    assert text == (
        "Tied.tied.pytree[1] (Shared > Linear.__call__): argument x is f32[3], "
        'expected Inexact[Array, "in_features"] with in_features=4 (bound by field '
        "weight f32[4,4])"
    )


def test_a_wrapper_called_directly_names_itself():
    layer = eqx.nn.WeightNorm(eqx.nn.Linear(6, 2, key=jr.PRNGKey(0)))
    text = message("eager", eqx.ShapeError, layer, jnp.ones(8))
    assert text == f"WeightNorm (WeightNorm > Linear.__call__): {_LINEAR}"
