"""Diagnoses of recurrent-state mistakes in a small model scanned over time: a
hidden state with a stray unit axis, and an LSTM state whose cell is a column.
Whole messages, every mode."""

import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx
from diagnose import GRU, LSTM, MODES, message


@pytest.mark.parametrize("mode", MODES)
def test_a_hidden_state_with_a_unit_axis(mode):
    # Not `jax.vmap`: a scan carry must keep its shape; dropping the axis fits.
    model = GRU(jr.PRNGKey(0))
    text = message(mode, eqx.ShapeError, model, jnp.ones((6, 4)), jnp.zeros((1, 8)))
    assert text == (
        "GRU.cell (GRUCell.__call__): argument hidden is f32[1,8], expected "
        'Inexact[Array, "hidden_size"] with hidden_size=8 (bound by field bias_n '
        "f32[8]) (got rank 2, expected rank 1)\n"
        "  hint: hidden[0] would be f32[8], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_an_lstm_cell_state_as_a_column(mode):
    model = LSTM(jr.PRNGKey(0))
    xs, h, c = jnp.ones((6, 4)), jnp.zeros(8), jnp.zeros((8, 1))
    text = message(mode, eqx.ShapeError, model, xs, h, c)
    assert text == (
        "LSTM.cell (LSTMCell.__call__): argument hidden is f32[8,1] at [1], expected "
        'Inexact[Array, "hidden_size"] with hidden_size=8 (bound by static field '
        "hidden_size) (got rank 2, expected rank 1)"
    )
