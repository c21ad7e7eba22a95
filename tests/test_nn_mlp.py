"""nn.MLP: structure, activations, biases, Equinox parity."""

import equinox
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


def test_structure(getkey):
    mlp = eqx.nn.MLP(2, 3, 8, 2, key=getkey())
    assert [layer.weight.shape for layer in mlp.layers] == [(8, 2), (8, 8), (3, 8)]
    assert mlp(jnp.ones(2)).shape == (3,)


def test_depth_zero(getkey):
    mlp = eqx.nn.MLP(2, 3, 8, 0, key=getkey())
    assert len(mlp.layers) == 1 and mlp.layers[0].weight.shape == (3, 2)


def test_activations_and_biases(getkey):
    mlp = eqx.nn.MLP(
        2,
        2,
        4,
        1,
        activation=jnp.tanh,
        final_activation=jax.nn.sigmoid,
        use_bias=False,
        use_final_bias=True,
        key=getkey(),
    )
    assert mlp.layers[0].bias is None and mlp.layers[1].bias is not None
    x = jnp.ones(2)
    expected = jax.nn.sigmoid(mlp.layers[1](jnp.tanh(mlp.layers[0](x))))
    assert np.allclose(mlp(x), expected)


def test_scalar_in_and_out(getkey):
    mlp = eqx.nn.MLP("scalar", "scalar", 4, 2, key=getkey())
    assert mlp(jnp.array(1.0)).shape == ()


def test_same_as_equinox(getkey):
    key = getkey()
    ours = eqx.nn.MLP(3, 2, 5, 2, key=key)
    theirs = equinox.nn.MLP(3, 2, 5, 2, key=key)
    x = jnp.arange(3.0)
    assert np.allclose(ours(x), theirs(x))


def test_vmap_over_batch(getkey):
    mlp = eqx.nn.MLP(2, 1, 4, 1, key=getkey())
    assert jax.vmap(mlp)(jnp.ones((10, 2))).shape == (10, 1)


@pytest.mark.parametrize("depth", [-1, 1.5])
def test_bad_depth(getkey, depth):
    with pytest.raises(ValueError, match="depth"):
        eqx.nn.MLP(2, 2, 2, depth, key=getkey())
