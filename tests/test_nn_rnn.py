"""nn.GRUCell and nn.LSTMCell: Equinox parity, gate equations, errors, random
shapes."""

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

GRU_FIELDS = ("weight_ih", "weight_hh", "bias", "bias_n", "input_size", "hidden_size")
LSTM_FIELDS = ("weight_ih", "weight_hh", "bias", "input_size", "hidden_size")
CONFIGS = [
    (3, 4, {}),
    (1, 7, {"use_bias": False}),
    (5, 3, {"dtype": jnp.bfloat16}),
    (0, 2, {}),
]


def _states(key, cls_name, input_size, hidden_size, dtype):
    k1, k2, k3 = jr.split(key, 3)
    x = jr.normal(k1, (input_size,), dtype)
    h = jr.normal(k2, (hidden_size,), dtype)
    if cls_name == "LSTMCell":
        return x, (h, jr.normal(k3, (hidden_size,), dtype))
    return x, h


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
@pytest.mark.parametrize(("input_size", "hidden_size", "kwargs"), CONFIGS)
def test_matches_equinox(getkey, name, input_size, hidden_size, kwargs):
    key = getkey()
    ours = getattr(eqx.nn, name)(input_size, hidden_size, **kwargs, key=key)
    theirs = getattr(eqx_ref.nn, name)(input_size, hidden_size, **kwargs, key=key)
    fields = GRU_FIELDS if name == "GRUCell" else LSTM_FIELDS
    assert_same_fields(ours, theirs, *fields)
    dtype = kwargs.get("dtype", jnp.float32)
    x, h = _states(getkey(), name, input_size, hidden_size, dtype)
    assert_same_output(ours(x, h), theirs(x, h))


def test_float64_under_x64_matches_equinox(getkey):
    with jax.enable_x64(True):
        key = getkey()
        for name, fields in (("GRUCell", GRU_FIELDS), ("LSTMCell", LSTM_FIELDS)):
            ours = getattr(eqx.nn, name)(3, 2, key=key)
            theirs = getattr(eqx_ref.nn, name)(3, 2, key=key)
            assert ours.weight_ih.dtype == jnp.float64
            assert_same_fields(ours, theirs, *fields)
            x, h = _states(getkey(), name, 3, 2, jnp.float64)
            assert_same_output(ours(x, h), theirs(x, h))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _np(a):
    return None if a is None else np.asarray(a, np.float64)


@pytest.mark.parametrize("use_bias", [True, False])
def test_gru_gate_equations(getkey, use_bias):
    cell = eqx.nn.GRUCell(3, 4, use_bias=use_bias, key=getkey())
    x, h = _states(getkey(), "GRUCell", 3, 4, jnp.float32)
    w_ih, w_hh, xs, hs = _np(cell.weight_ih), _np(cell.weight_hh), _np(x), _np(h)
    b = _np(cell.bias) if use_bias else np.zeros(12)
    b_n = _np(cell.bias_n) if use_bias else np.zeros(4)
    gi, gh = w_ih @ xs + b, w_hh @ hs
    r = _sigmoid(gi[:4] + gh[:4])
    z = _sigmoid(gi[4:8] + gh[4:8])
    n = np.tanh(gi[8:] + r * (gh[8:] + b_n))
    expected = (1 - z) * n + z * hs
    assert np.allclose(cell(x, h), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_bias", [True, False])
def test_lstm_gate_equations(getkey, use_bias):
    cell = eqx.nn.LSTMCell(3, 4, use_bias=use_bias, key=getkey())
    x, (h, c) = _states(getkey(), "LSTMCell", 3, 4, jnp.float32)
    lin = _np(cell.weight_ih) @ _np(x) + _np(cell.weight_hh) @ _np(h)
    if use_bias:
        lin = lin + _np(cell.bias)
    i, f, g, o = (
        _sigmoid(lin[:4]),
        _sigmoid(lin[4:8]),
        np.tanh(lin[8:12]),
        _sigmoid(lin[12:]),
    )
    c_next = f * _np(c) + i * g
    h_next = o * np.tanh(c_next)
    h_out, c_out = cell(x, (h, c))
    assert np.allclose(h_out, h_next, rtol=1e-5, atol=1e-6)
    assert np.allclose(c_out, c_next, rtol=1e-5, atol=1e-6)


def test_initialisation_bounds_and_dtype(getkey):
    cell = eqx.nn.GRUCell(8, 16, dtype=jnp.bfloat16, key=getkey())
    assert cell.weight_hh.shape == (48, 16) and cell.weight_hh.dtype == jnp.bfloat16
    limit = 1 / np.sqrt(16)
    for w in (cell.weight_ih, cell.weight_hh, cell.bias, cell.bias_n):
        assert np.all(np.abs(np.asarray(w, np.float32)) <= limit)


def test_scan_over_a_sequence(getkey):
    cell = eqx.nn.LSTMCell(2, 3, key=getkey())
    xs = jr.normal(getkey(), (5, 2))

    def step(carry, x):
        carry = cell(x, carry)
        return carry, carry[0]

    _, hs = jax.lax.scan(step, (jnp.zeros(3), jnp.zeros(3)), xs)
    assert hs.shape == (5, 3)


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1, 3), r"input_size=\.\.\.\) must be a non-negative int"),
        ((2, 0), r"hidden_size=\.\.\.\) must be a positive int"),
        ((2, 2.5), r"hidden_size=\.\.\.\) must be a positive int"),
    ],
)
def test_bad_configuration(getkey, name, args, match):
    with pytest.raises(ValueError, match=match):
        getattr(eqx.nn, name)(*args, key=getkey())


@given(
    name=st.sampled_from(["GRUCell", "LSTMCell"]),
    sizes=st.tuples(st.integers(0, 4), st.integers(1, 4)),
    xshape=st.lists(st.integers(0, 4), max_size=2),
    hshape=st.lists(st.integers(0, 4), max_size=2),
)
def test_random_shapes(name, sizes, xshape, hshape):
    input_size, hidden_size = sizes
    cell = getattr(eqx.nn, name)(input_size, hidden_size, key=jr.PRNGKey(0))
    x, h = jnp.ones(xshape), jnp.ones(hshape)
    hidden = (h, h) if name == "LSTMCell" else h
    if xshape == [input_size] and hshape == [hidden_size]:
        out = cell(x, hidden)
        assert jax.tree.map(jnp.shape, out) == jax.tree.map(jnp.shape, hidden)
    else:
        with pytest.raises(eqx.ShapeError):
            cell(x, hidden)


def _complex(key, shape):
    re_key, im_key = jr.split(key)
    return jax.lax.complex(jr.normal(re_key, shape), jr.normal(im_key, shape))


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
def test_complex_cells_match_equinox_in_values_and_gradients(getkey, name):
    key = getkey()
    ours = getattr(eqx.nn, name)(3, 4, dtype=jnp.complex64, key=key)
    theirs = getattr(eqx_ref.nn, name)(3, 4, dtype=jnp.complex64, key=key)
    assert ours.weight_ih.dtype == jnp.complex64
    fields = GRU_FIELDS if name == "GRUCell" else LSTM_FIELDS
    assert_same_fields(ours, theirs, *fields)
    x = _complex(getkey(), (3,))
    h = _complex(getkey(), (4,))
    state = (h, _complex(getkey(), (4,))) if name == "LSTMCell" else h
    assert_same_output(ours(x, state), theirs(x, state))

    def loss(cell, x, state):
        out = cell(x, state)
        return sum(jnp.sum(jnp.abs(o) ** 2) for o in jax.tree_util.tree_leaves(out))

    our_grads = eqx.filter_grad(loss)(ours, x, state)
    their_grads = eqx_ref.filter_grad(loss)(theirs, x, state)
    assert_same_fields(our_grads, their_grads, *fields)
