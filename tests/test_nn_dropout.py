"""nn.Dropout: Equinox parity, statistics, inference mode, keys, errors."""

import re

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


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_matches_equinox(getkey, p, dtype):
    ours, theirs = eqx.nn.Dropout(p), eqx_ref.nn.Dropout(p)
    assert_same_fields(ours, theirs, "p", "inference")
    x = jr.normal(getkey(), (4, 5), dtype)
    key = getkey()
    assert_same_output(ours(x, key=key), theirs(x, key=key))
    assert_same_output(
        ours(x, key=key, inference=True), theirs(x, key=key, inference=True)
    )


def test_float64_under_x64_matches_equinox(getkey):
    with jax.enable_x64(True):
        x, key = jr.normal(getkey(), (6,), jnp.float64), getkey()
        assert_same_output(
            eqx.nn.Dropout(0.3)(x, key=key), eqx_ref.nn.Dropout(0.3)(x, key=key)
        )


def test_against_mask_formula(getkey):
    x, key = jr.normal(getkey(), (1000,)), getkey()
    out = np.asarray(eqx.nn.Dropout(0.25)(x, key=key))
    keep = np.asarray(jr.bernoulli(key, 0.75, (1000,)))
    assert np.allclose(out, np.where(keep, np.asarray(x) / 0.75, 0.0), rtol=1e-6)
    assert 0.65 < keep.mean() < 0.85


def test_inference_and_p_zero_are_identity(getkey):
    x = jr.normal(getkey(), (3,))
    assert eqx.nn.Dropout(0.5, inference=True)(x) is x
    assert eqx.nn.Dropout(0.0)(x) is x
    assert eqx.nn.Dropout(0.5)(x, inference=True) is x


def test_inference_mode_switches_dropout_off(getkey):
    model = eqx.nn.Sequential([eqx.nn.Linear(3, 3, key=getkey()), eqx.nn.Dropout(0.9)])
    x = jnp.ones(3)
    with pytest.raises(RuntimeError, match="requires a key"):
        model(x)
    evaluating = eqx.nn.inference_mode(model)
    assert evaluating.layers[1].inference is True
    assert np.array_equal(evaluating(x), model.layers[0](x))
    training = eqx.nn.inference_mode(evaluating, False)
    assert training.layers[1].inference is False
    assert not np.array_equal(training(x, key=getkey()), evaluating(x))


class Net(eqx.Module):
    """A small model with the bug: training-mode dropout called without a key."""

    lin: eqx.nn.Linear
    drop: eqx.nn.Dropout

    def __init__(self, key):
        self.lin = eqx.nn.Linear(3, 4, key=key)
        self.drop = eqx.nn.Dropout(0.5)

    def __call__(self, x, *, key=None):
        return self.drop(self.lin(x), key=key)


MISSING_KEY = (
    "Net.drop (Dropout.__call__): Dropout requires a key when running in "
    "non-deterministic mode: key is None and inference is False, and dropout draws "
    "a random mask.\n"
    "  hint: pass one, e.g. `model(x, key=jax.random.key(0))` (split a fresh key for "
    "each step), or switch dropout off for evaluation with "
    "`model = eqx.nn.inference_mode(model)`."
)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m(x),
        lambda m, x: eqx.filter_jit(lambda m, x: m(x))(m, x),
        lambda m, x: eqx.filter_vmap(m)(x[None]),
        lambda m, x: jax.lax.scan(lambda c, xi: (c, m(xi)), 0, x[None]),
    ],
    ids=["eager", "filter_jit", "filter_vmap", "scan"],
)
def test_missing_key_names_the_path_and_the_fix(getkey, call):
    model = Net(getkey())
    with pytest.raises(RuntimeError) as info:
        call(model, jnp.ones(3))
    assert type(info.value).__name__ == "MissingKeyError"
    assert str(info.value) == MISSING_KEY


def test_missing_key_is_a_runtime_error_like_equinox():
    x = jnp.ones(3)
    with pytest.raises(RuntimeError, match=re.escape("Dropout.__call__: Dropout req")):
        eqx.nn.Dropout(0.5)(x)
    # Equinox's own phrase is part of the message, so tests written for it pass.
    with pytest.raises(RuntimeError, match="Dropout requires a key"):
        eqx_ref.nn.Dropout(0.5)(x)
    with pytest.raises(RuntimeError, match="Dropout requires a key"):
        eqx.nn.Dropout(0.5)(x)


def test_attention_dropout_without_a_key_names_its_path(getkey):
    attn = eqx.nn.MultiheadAttention(2, 4, dropout_p=0.5, key=getkey())
    x = jnp.ones((3, 4))
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "MultiheadAttention.dropout (Dropout.__call__): Dropout requires a key"
        ),
    ):
        attn(x, x, x)


def test_deterministic_is_deprecated_but_works():
    with pytest.warns(UserWarning, match="deterministic"):
        layer = eqx.nn.Dropout(0.5, deterministic=True)
    assert layer.inference and layer.deterministic
    x = jnp.ones(2)
    with pytest.warns(UserWarning, match="deterministic"):
        assert eqx.nn.Dropout(0.5)(x, deterministic=True) is x


def test_p_may_be_an_array_and_jitted(getkey):
    layer = eqx.nn.Dropout(jnp.asarray(0.5))
    x, key = jr.normal(getkey(), (8,)), getkey()
    out = eqx.filter_jit(lambda m, x, k: m(x, key=k))(layer, x, key)
    assert_same_output(out, eqx_ref.nn.Dropout(jnp.asarray(0.5))(x, key=key))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_p_outside_unit_interval(p):
    with pytest.raises(ValueError, match=r"Dropout\(p=\.\.\.\) is a probability"):
        eqx.nn.Dropout(p)


@given(
    p=st.floats(0, 1),
    shape=st.lists(st.integers(0, 4), max_size=3),
    dtype=st.sampled_from([jnp.float32, jnp.int32]),
)
def test_random_shapes(p, shape, dtype):
    x = jnp.ones(shape, dtype)
    layer = eqx.nn.Dropout(p)
    if dtype == jnp.int32:
        with pytest.raises(eqx.ShapeError, match="float dtype"):
            layer(x, key=jr.PRNGKey(0))
    else:
        assert layer(x, key=jr.PRNGKey(0)).shape == tuple(shape)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("p", [0.3, "array"])
def test_gradients_same_as_equinox(getkey, dtype, p):
    # The gradient through the mask, with the same key; an array `p` gets no
    # gradient (it is stopped), in both libraries.
    key, x = getkey(), jr.normal(getkey(), (4, 5), dtype)
    p = jnp.asarray(0.3) if p == "array" else p
    argnums = (0, 1) if isinstance(p, jax.Array) else (1,)

    def grads(lib):
        def loss(p, x):
            y = lib.nn.Dropout(p)(x, key=key)
            weights = jnp.linspace(-1.0, 2.0, y.size).reshape(y.shape)
            return jnp.sum(y.astype(jnp.float32) * weights)

        return jax.grad(loss, argnums=argnums)(p, x)

    assert_same_output(grads(eqx), grads(eqx_ref))
