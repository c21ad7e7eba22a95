"""nn.PReLU: Equinox parity, the formula, per-channel slopes, random shapes."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx as eqx
from parity import assert_same_fields, assert_same_output

eqx_ref = pytest.importorskip("equinox")


@pytest.mark.parametrize(
    "init_alpha",
    [0.25, 0.0, 1, -0.5, jnp.asarray([0.1, 0.2, 0.3]), np.full((2, 1), 0.3)],
)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_matches_equinox(getkey, init_alpha, dtype):
    ours, theirs = eqx.nn.PReLU(init_alpha), eqx_ref.nn.PReLU(init_alpha)
    assert_same_fields(ours, theirs, "negative_slope")
    assert ours.negative_slope.weak_type == theirs.negative_slope.weak_type
    x = jr.normal(getkey(), (2, 3), dtype)
    assert_same_output(ours(x), theirs(x))


def test_default_matches_equinox_under_x64(getkey):
    with jax.enable_x64(True):
        x = jr.normal(getkey(), (4,), jnp.float64)
        assert_same_output(eqx.nn.PReLU()(x), eqx_ref.nn.PReLU()(x))


def test_against_formula(getkey):
    slope = jr.uniform(getkey(), (3,))
    layer = eqx.nn.PReLU(slope)
    x = jr.normal(getkey(), (4, 3))
    xs, ss = np.asarray(x), np.asarray(slope)
    assert np.allclose(layer(x), np.where(xs >= 0, xs, ss * xs))


def test_none_is_rejected():
    with pytest.raises(ValueError, match=r"init_alpha=\.\.\.\) must be a number"):
        eqx.nn.PReLU(None)


def test_slope_is_learnable(getkey):
    layer = eqx.nn.PReLU()
    x = -jnp.ones(3)
    grads = eqx.filter_grad(lambda m: jnp.sum(m(x)))(layer)
    assert np.allclose(grads.negative_slope, -3.0)


@given(
    slope_shape=st.lists(st.integers(1, 3), max_size=2),
    xshape=st.lists(st.integers(1, 3), max_size=3),
)
def test_random_shapes(slope_shape, xshape):
    layer = eqx.nn.PReLU(jnp.full(slope_shape, 0.5))
    x = -jnp.ones(xshape)
    trailing = xshape[len(xshape) - len(slope_shape) :]
    fits = len(slope_shape) <= len(xshape) and all(
        s in (1, d) for s, d in zip(slope_shape, trailing)
    )
    if fits:
        out = layer(x)
        assert out.shape == tuple(xshape)
        assert np.allclose(out, -0.5)
    else:
        with pytest.raises(eqx.ShapeError, match="do not broadcast"):
            layer(x)
