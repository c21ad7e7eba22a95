"""nn.WeightNorm: Equinox parity, the reparameterisation, gradients, errors."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from helpers import ones

eqx_ref = pytest.importorskip("equinox")


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_same_as_equinox(getkey, axis):
    key = getkey()
    ours = eqx.nn.WeightNorm(eqx.nn.Linear(3, 4, key=key), axis=axis)
    theirs = eqx_ref.nn.WeightNorm(eqx_ref.nn.Linear(3, 4, key=key), axis=axis)
    assert ours.g.shape == theirs.g.shape
    assert np.array_equal(ours.g, theirs.g)
    x = jr.normal(getkey(), (3,))
    assert np.array_equal(ours(x), theirs(x))


def test_starts_as_the_wrapped_layer(getkey):
    linear = eqx.nn.Linear(5, 2, key=getkey())
    wrapped = eqx.nn.WeightNorm(linear)
    x = jr.normal(getkey(), (5,))
    assert np.allclose(wrapped(x), linear(x), rtol=1e-6)
    assert np.allclose(wrapped.g[:, 0], jnp.sqrt(jnp.sum(linear.weight**2, axis=1)))


def test_magnitude_and_direction(getkey):
    wrapped = eqx.nn.WeightNorm(eqx.nn.Linear(3, 2, use_bias=False, key=getkey()))
    scaled = eqx.tree_at(lambda m: m.g, wrapped, 2 * wrapped.g)
    x = jr.normal(getkey(), (3,))
    assert np.allclose(scaled(x), 2 * wrapped(x), rtol=1e-6)
    # the direction's scale does not matter
    longer = eqx.tree_at(lambda m: m.layer.weight, wrapped, 7 * wrapped.layer.weight)
    assert np.allclose(longer(x), wrapped(x), rtol=1e-5)


def test_gradients_flow_to_g_and_v(getkey):
    wrapped = eqx.nn.WeightNorm(eqx.nn.Linear(3, 2, key=getkey()))
    x = jr.normal(getkey(), (3,))
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m(x) ** 2)))(wrapped)
    assert grads.g.shape == (2, 1)
    assert jnp.any(grads.g != 0) and jnp.any(grads.layer.weight != 0)


def test_vmap_and_wrapped_contract(getkey):
    wrapped = eqx.nn.WeightNorm(eqx.nn.Linear(3, 2, key=getkey()))
    assert jax.vmap(wrapped)(ones(4, 3)).shape == (4, 2)
    with pytest.raises(eqx.ShapeError, match=r"argument x is f32\[5\].*in_features=3"):
        wrapped(ones(5))


def test_bad_configuration(getkey):
    linear = eqx.nn.Linear(3, 2, key=getkey())
    with pytest.raises(AttributeError, match=r"weight_name='kernel'"):
        eqx.nn.WeightNorm(linear, weight_name="kernel")
    with pytest.raises(ValueError, match=r"WeightNorm\(weight_name='in_features'\)"):
        eqx.nn.WeightNorm(linear, weight_name="in_features")
    with pytest.raises(ValueError, match=r"WeightNorm\(axis=\.\.\.\).*shape \(2, 3\)"):
        eqx.nn.WeightNorm(linear, axis=2)
