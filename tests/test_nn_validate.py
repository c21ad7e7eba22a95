"""The configuration checks every layer shares (`nn/_validate.py`), as a user meets
them: through a layer's constructor, a `ValueError` naming `Layer(arg=...)`, the
rule and the value."""

import re

import jax.random as jr
import pytest

import typedeqx as eqx

KEY = jr.PRNGKey(0)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: eqx.nn.Conv2d(True, 2, 3, key=KEY),
            "Conv2d(in_channels=...) must be an int >= 1; got True.",
        ),
        (
            lambda: eqx.nn.Conv1d(2, 2, 3, groups=0, key=KEY),
            "Conv1d(groups=...) must be an int >= 1; got 0.",
        ),
        (
            lambda: eqx.nn.ConvTranspose2d(2, 2, (3, 3, 3), key=KEY),
            "ConvTranspose2d(kernel_size=...) must be an int or a sequence of 2 ints "
            "(one per spatial axis), each >= 1; got (3, 3, 3).",
        ),
        (
            lambda: eqx.nn.ConvTranspose1d(2, 2, 3, 2, -1, key=KEY),
            "ConvTranspose1d(output_padding=...) must be an int or a sequence of 1 "
            "ints (one per spatial axis), each >= 0; got -1.",
        ),
        (
            lambda: eqx.nn.GroupNorm(2.0, 4),
            "GroupNorm(groups=...) must be a positive int; got 2.0.",
        ),
        (
            lambda: eqx.nn.GroupNorm(2, -4),
            "GroupNorm(channels=...) must be a non-negative int or None; got -4.",
        ),
        (
            lambda: eqx.nn.Embedding(-1, 3, key=KEY),
            "Embedding(num_embeddings=...) must be a non-negative int; got -1.",
        ),
        (
            lambda: eqx.nn.BatchNorm(0, "batch", mode="ema"),
            "BatchNorm(input_size=...) must be a positive int; got 0.",
        ),
        (
            lambda: eqx.nn.BatchNorm(3, "batch", eps="small", mode="ema"),
            "BatchNorm(eps=...) must be a number >= 0; got 'small'.",
        ),
        (
            lambda: eqx.nn.SpectralNorm(
                eqx.nn.Linear(2, 2, key=KEY), "weight", num_power_iterations=-1, key=KEY
            ),
            "SpectralNorm(num_power_iterations=...) must be an int >= 0; got -1.",
        ),
        (
            lambda: eqx.nn.LayerNorm((2, False)),
            "LayerNorm(shape=...) must be a non-negative int or a sequence of them; "
            "got (2, False).",
        ),
    ],
)
def test_a_bad_configuration_is_a_value_error_naming_the_argument(make, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make()
