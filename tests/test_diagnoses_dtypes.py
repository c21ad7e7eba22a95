"""Diagnoses of dtype mistakes in small models: a bfloat16 sequence into float32
attention, a float16 head into a float32 rotary embedding, a bfloat16 input or
state into float32 recurrent cells (each an error from inside JAX under strict
dtype promotion without its contract), and a model passed through `jax.jit`
directly, whose boolean `inference` flag becomes a tracer. Whole messages, every
mode; and, under standard promotion, the same inputs accepted and equal to
Equinox's result (no false alarm)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from diagnose import GRU, LSTM, MODES, message

equinox = pytest.importorskip("equinox")


class Encoder(eqx.Module):
    attn: eqx.nn.MultiheadAttention

    def __init__(self, key):
        self.attn = eqx.nn.MultiheadAttention(2, 8, key=key)

    def __call__(self, q, kv):
        return self.attn(q, kv, kv)


class Rotary(eqx.Module):
    rope: eqx.nn.RotaryPositionalEmbedding

    def __init__(self):
        self.rope = eqx.nn.RotaryPositionalEmbedding(4)

    def __call__(self, x):
        return self.rope(x)


_STRICT = "under jax_numpy_dtype_promotion='strict')"


@pytest.mark.parametrize("mode", MODES)
def test_a_bfloat16_key_value_sequence_into_float32_attention(mode):
    # The user passed `kv` to the attention, not to its `key_proj`: the contract
    # is the attention's, and names its argument.
    model = Encoder(jr.PRNGKey(0))
    got = message(
        mode, eqx.ShapeError, model, jnp.ones((3, 8)), jnp.ones((5, 8), jnp.bfloat16)
    )
    assert got == (
        "Encoder.attn (MultiheadAttention.__call__): argument key_ is bf16[5,8], "
        'expected Float[Array, "kv_seq key_size"] with key_size=8 (bound by static '
        "field key_size) (got dtype bf16, which does not promote with "
        f"key_proj.weight's dtype float32 {_STRICT}\n"
        "  hint: key_.astype(jnp.float32) would be f32[5,8], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_float16_head_into_a_float32_rotary_embedding(mode):
    got = message(mode, eqx.ShapeError, Rotary(), jnp.ones((3, 4), jnp.float16))
    assert got == (
        "Rotary.rope (RotaryPositionalEmbedding.__call__): argument x is f16[3,4], "
        'expected Float[Array, "seq embedding_size"] with embedding_size=4 (bound by '
        "static field embedding_size) (got dtype f16, which does not promote with "
        f"dtype=float32 {_STRICT}\n"
        "  hint: x.astype(jnp.float32) would be f32[3,4], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_bfloat16_input_into_a_float32_gru(mode):
    model = GRU(jr.PRNGKey(0))
    xs = jnp.ones((6, 4), jnp.bfloat16)
    got = message(mode, eqx.ShapeError, model, xs, jnp.zeros(8))
    assert got == (
        "GRU.cell (GRUCell.__call__): argument input is bf16[4], expected "
        'Inexact[Array, "input_size"] with input_size=4 (bound by static field '
        "input_size) (got dtype bf16, which does not promote with weight_ih's dtype "
        f"float32 {_STRICT}\n"
        "  hint: input.astype(jnp.float32) would be f32[4], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_float16_cell_state_into_a_float32_lstm(mode):
    model = LSTM(jr.PRNGKey(0))
    h, c = jnp.zeros(8), jnp.zeros(8, jnp.float16)
    got = message(mode, eqx.ShapeError, model, jnp.ones((6, 4)), h, c)
    assert got == (
        "LSTM.cell (LSTMCell.__call__): argument hidden is f16[8] at [1], expected "
        'Inexact[Array, "hidden_size"] with hidden_size=8 (bound by static field '
        "hidden_size) (got dtype f16, which does not promote with weight_hh's dtype "
        f"float32 {_STRICT}"
    )


def _equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)


@pytest.mark.parametrize("lib_dtype", [jnp.bfloat16, jnp.float16])
def test_standard_promotion_accepts_what_equinox_accepts(lib_dtype):
    # Issue 18 item 5: a float input of another dtype promotes with a float32 layer
    # under standard promotion, in Equinox and here alike, with equal results.
    key = jr.PRNGKey(0)
    q, kv = jnp.ones((3, 8)), jnp.linspace(0, 1, 40).reshape(5, 8).astype(lib_dtype)
    x, h = jnp.linspace(-1, 1, 4).astype(lib_dtype), jnp.zeros(8, lib_dtype)
    head = jnp.linspace(-1, 1, 12).reshape(3, 4).astype(lib_dtype)
    results = {}
    for name, lib in (("ours", eqx), ("theirs", equinox)):
        nn = lib.nn
        attn = nn.MultiheadAttention(2, 8, key=key)
        lin = nn.Linear(4, 3, key=key)
        gru, lstm = nn.GRUCell(4, 8, key=key), nn.LSTMCell(4, 8, key=key)
        rope = nn.RotaryPositionalEmbedding(4)
        with jax.numpy_dtype_promotion("standard"):
            results[name] = (
                attn(q, kv, kv),
                lin(x),
                gru(x, h),
                lstm(x, (h, h)),
                rope(head),
            )
    _equal(results["ours"], results["theirs"])


class Classifier(eqx.Module):
    layers: eqx.nn.Sequential

    def __init__(self, key):
        self.layers = eqx.nn.Sequential(
            [eqx.nn.Linear(4, 4, key=key), eqx.nn.Dropout(0.5, inference=True)]
        )

    def __call__(self, x):
        return self.layers(x)


def test_a_model_passed_through_plain_jit():
    # `jax.jit` traces every leaf, the `inference` flag included; the filtered
    # transforms keep it static.
    model = Classifier(jr.PRNGKey(0))

    @jax.jit
    def predict(model, x):
        return model(x)

    with pytest.raises(eqx.ShapeError) as info:
        predict(model, jnp.ones(4))
    assert str(info.value).split("\n--------------------\n")[0] == (
        "Classifier.layers.layers[1] (Dropout.__call__): field inference is bool[], "
        "expected bool\n"
        "  hint: a bool field that became a traced array: the model was passed "
        "through a JAX transformation directly (jax.jit, jax.vmap, a lax.scan "
        "carry), which traces every leaf; use eqx.filter_jit / eqx.filter_vmap, "
        "which keep non-array fields static."
    )
    # The fix the hint names works.
    assert eqx.filter_jit(lambda m, x: m(x))(model, jnp.ones(4)).shape == (4,)
