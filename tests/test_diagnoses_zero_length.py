"""Zero-length inputs: accepted with Equinox's result where Equinox gives one, and
otherwise a typedeqx error naming the layer, the argument and the fix (never
`ZeroDivisionError` or `jnp.pad`'s message)."""

import equinox
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from diagnose import message

KEY = jr.PRNGKey(0)


def test_a_zero_length_query_gives_an_empty_output():
    layer = eqx.nn.MultiheadAttention(2, 16, key=KEY)
    out = layer(jnp.ones((0, 16)), jnp.ones((5, 16)), jnp.ones((5, 16)))
    assert out.shape == (0, 16)
    with pytest.raises(ZeroDivisionError):  # what Equinox 0.13.8 does instead
        equinox.nn.MultiheadAttention(2, 16, key=KEY)(
            jnp.ones((0, 16)), jnp.ones((5, 16)), jnp.ones((5, 16))
        )


class Padded(eqx.Module):
    conv: eqx.nn.Conv1d

    def __init__(self, mode):
        self.conv = eqx.nn.Conv1d(2, 2, 3, padding=1, padding_mode=mode, key=KEY)

    def __call__(self, x):
        return self.conv(x)


@pytest.mark.parametrize("mode", ["eager", "jit"])
@pytest.mark.parametrize("padding_mode", ["REFLECT", "REPLICATE", "CIRCULAR"])
def test_copying_padding_of_an_empty_axis(mode, padding_mode):
    text = message(mode, ValueError, Padded(padding_mode), jnp.ones((2, 0)))
    assert text == (
        "Padded.conv (Conv1d.__call__): argument x is f32[2,0], whose spatial axis 0 "
        f"is empty, so padding_mode={padding_mode!r} has no values to pad it with.\n"
        "  hint: pass an input with at least one element along every spatial axis, "
        "or use padding_mode='ZEROS'."
    )


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"padding": 1}, {"padding": "SAME"}, {"stride": 2, "padding": 1}],
)
def test_a_zero_length_transposed_convolution_matches_equinox(kwargs):
    x = jnp.ones((2, 0))
    ours = eqx.nn.ConvTranspose1d(2, 3, 3, key=KEY, **kwargs)(x)
    theirs = equinox.nn.ConvTranspose1d(2, 3, 3, key=KEY, **kwargs)(x)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
