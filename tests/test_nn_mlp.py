"""nn.MLP: structure, activations, biases, Equinox parity."""

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx as eqx
from helpers import ones, tree_allclose


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


# --- scan over layers, Equinox parity, per-unit activations, surgery ---


@pytest.mark.parametrize("scan", [False, True])
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((3, 2, 5, 3), {}),
        ((3, 2, 5, 1), {"use_bias": False}),
        (("scalar", "scalar", 4, 2), {"activation": jnp.tanh}),
        ((3, 2, 5, 0), {"final_activation": jax.nn.sigmoid}),
        ((3, 4, 5, 2), {"final_activation": jax.nn.softplus, "dtype": jnp.float16}),
    ],
)
def test_same_parameters_and_outputs_as_equinox(getkey, scan, args, kwargs):
    key = getkey()
    ours = eqx.nn.MLP(*args, scan=scan, key=key, **kwargs)
    theirs = equinox.nn.MLP(*args, scan=scan, key=key, **kwargs)
    assert len(ours.layers) == len(theirs.layers)
    for a, b in zip(ours.layers, theirs.layers):
        assert tree_allclose(jtu.tree_leaves(a), jtu.tree_leaves(b), rtol=0, atol=0)
    dtype = kwargs.get("dtype", jnp.float32)
    x = ones(*([] if args[0] == "scalar" else [args[0]]), dtype=dtype)
    assert np.allclose(ours(x), theirs(x), atol=1e-3) and ours(x).dtype == dtype
    assert np.allclose(eqx.filter_jit(ours)(x), theirs(x), atol=1e-3)


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_scan_matches_unrolled(getkey, depth):
    key = getkey()
    plain = eqx.nn.MLP(3, 2, 4, depth, key=key)
    scanned = eqx.nn.MLP(3, 2, 4, depth, scan=True, key=key)
    assert len(scanned.layers) == 3 and scanned.scan and not plain.scan
    stacked = scanned.layers[1].weight
    assert stacked.shape == (depth - 1, 4, 4)
    for i, layer in enumerate(plain.layers[1:-1]):
        assert np.array_equal(layer.weight, stacked[i])
    x = jr.normal(getkey(), (3,))
    assert np.allclose(plain(x), scanned(x), atol=1e-6)
    assert np.allclose(jax.vmap(plain)(x[None]), jax.vmap(scanned)(x[None]), atol=1e-6)


def test_scan_contract(getkey):
    mlp = eqx.nn.MLP(3, 2, 4, 3, scan=True, key=getkey())
    with pytest.raises(eqx.ShapeError, match=r"argument x is f32\[5\].*in_features=3"):
        mlp(ones(5))
    with pytest.raises(eqx.ShapeError, match=r"argument x is f32\[5\]"):
        eqx.filter_jit(mlp)(ones(5))


def test_learnt_activation_gets_one_copy_per_unit(getkey):
    class Slope(eqx.Module):
        a: jax.Array

        def __call__(self, x):
            return self.a * x

    key = getkey()
    ours = eqx.nn.MLP(2, 3, 4, 2, activation=Slope(jnp.array(0.5)), key=key)
    theirs = equinox.nn.MLP(2, 3, 4, 2, activation=Slope(jnp.array(0.5)), key=key)
    assert ours.activation.a.shape == (2, 4)
    ours = eqx.tree_at(lambda m: m.activation.a, ours, jnp.arange(8.0).reshape(2, 4))
    theirs = equinox.tree_at(lambda m: m.activation.a, theirs, ours.activation.a)
    x = jnp.array([1.0, -1.0])
    assert np.allclose(ours(x), theirs(x))
    for scan in [True]:
        s = eqx.nn.MLP(2, 3, 4, 2, activation=Slope(jnp.array(0.5)), scan=scan, key=key)
        s = eqx.tree_at(lambda m: m.activation.a, s, ours.activation.a)
        assert np.allclose(s(x), ours(x), atol=1e-6)


def test_surgery_with_a_wrapper_and_with_a_list(getkey):
    class Scaled(eqx.Module):
        inner: eqx.nn.Linear

        def __call__(self, x, *, key=None):
            return 2 * self.inner(x)

    mlp = eqx.nn.MLP(3, 2, 4, 2, key=getkey())
    x = ones(3)
    wrapped = eqx.tree_at(lambda m: m.layers[1], mlp, Scaled(mlp.layers[1]))
    h = jax.nn.relu(2 * mlp.layers[1](jax.nn.relu(mlp.layers[0](x))))
    assert np.allclose(wrapped(x), mlp.layers[2](h))
    as_list = eqx.tree_at(lambda m: m.layers, mlp, list(mlp.layers))
    assert np.allclose(as_list(x), mlp(x))
    # Each layer still checks its own contract, with its path.
    bad = eqx.tree_at(
        lambda m: m.layers, mlp, [*mlp.layers[:2], eqx.nn.Linear(5, 2, key=getkey())]
    )
    with pytest.raises(eqx.ShapeError, match=r"in_features=5"):
        bad(x)


@given(
    in_size=st.integers(1, 4),
    given=st.integers(1, 4),
    depth=st.integers(0, 3),
    scan=st.booleans(),
)
def test_random_configurations(in_size, given, depth, scan):
    mlp = eqx.nn.MLP(in_size, 2, 3, depth, scan=scan, key=jr.PRNGKey(0))
    try:
        y = mlp(jnp.ones(given))
    except eqx.ShapeError as e:
        assert given != in_size and "in_features" in str(e)
    else:
        assert given == in_size and y.shape == (2,)
