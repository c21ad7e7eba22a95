"""Diagnoses of CNN mistakes, as a user meets them in a small model: a batch without
`vmap`, channels-last images, a missing flatten, integer images; and no false
alarm for a float64 NumPy image. Each message is asserted whole, in every mode."""

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from diagnose import MODES, message


def make_cnn(lib, flatten: bool):
    class CNN(lib.Module):
        conv: lib.nn.Conv2d
        pool: lib.nn.MaxPool2d
        head: lib.nn.Linear

        def __init__(self, key):
            a, b = jr.split(key)
            self.conv = lib.nn.Conv2d(3, 8, 3, padding=1, key=a)
            self.pool = lib.nn.MaxPool2d(2, 2)
            self.head = lib.nn.Linear(8 * 4 * 4, 10, key=b)

        def __call__(self, x):
            x = self.pool(jax.nn.relu(self.conv(x)))
            return self.head(x.reshape(-1) if flatten else x)

    return CNN(jr.PRNGKey(0))


_WHERE = "CNN.conv (Conv2d.__call__): argument x is "
_CONV = (
    'expected Inexact[Array, "in_channels *spatial"] with in_channels=3 (bound by '
    "static field in_channels)"
)


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_without_vmap(mode):
    text = message(mode, eqx.ShapeError, make_cnn(eqx, True), jnp.ones((5, 3, 8, 8)))
    assert text == (
        f"{_WHERE}f32[5,3,8,8], {_CONV} (got rank 4, expected rank 3: a channel "
        "axis and num_spatial_dims=2 spatial axes)\n"
        "  hint: x looks like a batch of 5 inputs of shape f32[3,8,8]. Map over it "
        "with jax.vmap: jax.vmap(model)(x) for a batch of CNN inputs, or "
        "jax.vmap(self.conv)(x) inside CNN."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_channels_last_image(mode):
    # Not `x.T`: that would also swap height and width.
    text = message(mode, eqx.ShapeError, make_cnn(eqx, True), jnp.ones((8, 8, 3)))
    assert text == (
        f"{_WHERE}f32[8,8,3], {_CONV}\n"
        "  hint: jnp.moveaxis(x, -1, 0) would be f32[3,8,8], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_grey_image_has_no_fix_to_offer(mode):
    text = message(mode, eqx.ShapeError, make_cnn(eqx, True), jnp.ones((8, 8)))
    assert text == (
        f"{_WHERE}f32[8,8], {_CONV} (got rank 2, expected rank 3: a channel axis and "
        "num_spatial_dims=2 spatial axes)"
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_missing_flatten(mode):
    text = message(mode, eqx.ShapeError, make_cnn(eqx, False), jnp.ones((3, 8, 8)))
    assert text == (
        "CNN.head (Linear.__call__): argument x is f32[8,4,4], expected Inexact[Array, "
        '"in_features"] with in_features=128 (bound by field weight f32[10,128]) (got '
        "rank 3, expected rank 1)\n"
        "  hint: x.reshape(-1) would be f32[128], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_an_integer_image(mode):
    image = jnp.ones((3, 8, 8), jnp.uint8)
    text = message(mode, eqx.ShapeError, make_cnn(eqx, True), image)
    assert text == (
        f"{_WHERE}u8[3,8,8], {_CONV} (expected a float or complex dtype, got u8)\n"
        "  hint: x.astype(jnp.float32) would be f32[3,8,8], which fits."
    )


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_a_float64_numpy_image_is_accepted_as_jax_would_make_it(mode):
    image = np.random.default_rng(0).normal(size=(3, 8, 8))  # float64, x64 off
    ours = make_cnn(eqx, True)
    theirs = make_cnn(equinox, True)
    run = (lambda m: m) if mode == "eager" else equinox.filter_jit
    out = (eqx.filter_jit(ours) if mode == "jit" else ours)(image)
    expected = run(theirs)(image)
    assert out.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


@pytest.mark.parametrize("mode", MODES)
def test_a_half_precision_image_into_a_float32_network(mode):
    image = jnp.ones((3, 8, 8), jnp.float16)
    text = message(mode, eqx.ShapeError, make_cnn(eqx, True), image)
    assert text == (
        f"{_WHERE}f16[3,8,8], {_CONV} (got dtype f16, expected weight's dtype "
        "float32)\n  hint: x.astype(jnp.float32) would be f32[3,8,8], which fits."
    )
