"""nn.Linear and nn.Identity: shapes, initialisation, Equinox parity, errors."""

import equinox
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


def test_shapes_and_call(getkey):
    layer = eqx.nn.Linear(3, 4, key=getkey())
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (4,)
    assert layer.weight.dtype == jnp.float32
    x = jnp.arange(3.0)
    assert np.allclose(layer(x), layer.weight @ x + layer.bias)


def test_initialisation_bounds(getkey):
    layer = eqx.nn.Linear(16, 256, key=getkey())
    limit = 1 / np.sqrt(16)
    assert np.all(np.abs(layer.weight) <= limit)
    assert np.all(np.abs(layer.bias) <= limit)
    assert np.abs(layer.weight).max() > 0.9 * limit


def test_same_initialisation_as_equinox(getkey):
    key = getkey()
    ours = eqx.nn.Linear(5, 7, key=key)
    theirs = equinox.nn.Linear(5, 7, key=key)
    assert np.array_equal(ours.weight, theirs.weight)
    assert np.array_equal(ours.bias, theirs.bias)


def test_no_bias(getkey):
    layer = eqx.nn.Linear(2, 3, use_bias=False, key=getkey())
    assert layer.bias is None
    assert len(jax.tree_util.tree_leaves(layer)) == 1
    assert layer(jnp.ones(2)).shape == (3,)


@pytest.mark.parametrize(
    ("fin", "fout", "xshape", "yshape"),
    [("scalar", 3, (), (3,)), (3, "scalar", (3,), ()), ("scalar", "scalar", (), ())],
)
def test_scalar_features(getkey, fin, fout, xshape, yshape):
    layer = eqx.nn.Linear(fin, fout, key=getkey())
    assert layer(jnp.ones(xshape)).shape == yshape


def test_dtype(getkey):
    layer = eqx.nn.Linear(2, 2, dtype=jnp.float16, key=getkey())
    assert layer.weight.dtype == jnp.float16


@pytest.mark.parametrize("bad", [-1, 2.5, "vector", True])
def test_bad_sizes(getkey, bad):
    with pytest.raises(
        ValueError, match=r"in_features=\.\.\.\) must be a non-negative int"
    ):
        eqx.nn.Linear(bad, 2, key=getkey())


def test_identity():
    ident = eqx.nn.Identity(1, 2, foo=3)
    x = jnp.ones((2, 3))
    assert ident(x) is x
    assert jax.tree_util.tree_leaves(ident) == []


def test_numpy_input_like_equinox(getkey):
    layer = eqx.nn.Linear(3, 2, key=getkey())
    assert np.allclose(layer(np.ones(3, np.float32)), layer(jnp.ones(3)))
    assert isinstance(eqx.nn.Identity()(np.ones(2)), np.ndarray)


def test_scalar_input_to_a_vector_layer_is_a_shape_error(getkey):
    layer = eqx.nn.Linear(3, 2, key=getkey())
    with pytest.raises(
        eqx.ShapeError, match=r"argument x is f32\[\].*in_features=3"
    ) as info:
        layer(jnp.ones(()))
    assert info.value.parameter == "x" and info.value.path == "Linear"
    # Only the vector alternative applies to Linear(3, ...), and no edit of a
    # scalar gives 3 features: no hint rather than a wrong one.
    assert str(info.value) == (
        'Linear.__call__: argument x is f32[], expected Inexact[Array, "in_features"] '
        "with in_features=3 (bound by field weight f32[2,3]) (got rank 0, expected "
        "rank 1)"
    )
