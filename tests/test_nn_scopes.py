"""Named scopes (`nn/_scopes.py`): each layer's operations sit in the
`jax.named_scope` Equinox gives the same layer, read from lowered HLO text and
compared with Equinox's for the same model."""

import re

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx
from typedeqx.nn._scopes import SCOPED

KEY = jr.PRNGKey(0)


def _cases(lib):
    k = jr.split(KEY, 12)
    nn = lib.nn
    return {
        "Conv2d": (nn.Conv2d(3, 4, 3, key=k[0]), (jnp.ones((3, 8, 8)),)),
        "MaxPool2d": (nn.MaxPool2d(2), (jnp.ones((3, 8, 8)),)),
        "AvgPool1d": (nn.AvgPool1d(2), (jnp.ones((3, 8)),)),
        "AdaptiveAvgPool2d": (nn.AdaptiveAvgPool2d(2), (jnp.ones((3, 8, 8)),)),
        "ConvTranspose1d": (nn.ConvTranspose1d(2, 2, 3, key=k[1]), (jnp.ones((2, 5)),)),
        "MLP": (nn.MLP(4, 2, 8, 2, key=k[2]), (jnp.ones(4),)),
        "Sequential": (
            nn.Sequential([nn.Linear(4, 4, key=k[3]), nn.Lambda(jax.nn.relu)]),
            (jnp.ones(4),),
        ),
        "LayerNorm": (nn.LayerNorm(4), (jnp.ones(4),)),
        "RMSNorm": (nn.RMSNorm(4), (jnp.ones(4),)),
        "GroupNorm": (nn.GroupNorm(2, 4), (jnp.ones((4, 3)),)),
        "MultiheadAttention": (
            nn.MultiheadAttention(2, 4, key=k[4]),
            (jnp.ones((3, 4)),) * 3,
        ),
        "RotaryPositionalEmbedding": (
            nn.RotaryPositionalEmbedding(4),
            (jnp.ones((3, 4)),),
        ),
        "WeightNorm": (nn.WeightNorm(nn.Linear(4, 2, key=k[5])), (jnp.ones(4),)),
        "GRUCell": (nn.GRUCell(4, 3, key=k[6]), (jnp.ones(4), jnp.ones(3))),
        "LSTMCell": (
            nn.LSTMCell(4, 3, key=k[7]),
            (jnp.ones(4), (jnp.ones(3), jnp.ones(3))),
        ),
        "Embedding": (nn.Embedding(5, 3, key=k[8]), (jnp.array(2),)),
        "PReLU": (nn.PReLU(), (jnp.ones(4),)),
        "Dropout": (nn.Dropout(0.5), (jnp.ones(4),)),
        "SpectralNorm": _stateful(
            lib, lambda: nn.SpectralNorm(nn.Linear(4, 2, key=k[9]), "weight", key=k[9])
        ),
        "BatchNorm": _stateful(
            lib, lambda: nn.BatchNorm(4, "batch", mode="batch"), batched=True
        ),
    }


def _stateful(lib, build, batched=False):
    layer, state = lib.nn.make_with_state(build)()
    if batched:
        # BatchNorm reduces over a named axis: map it, as a user does.
        call = jax.vmap(layer, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
        return call, (jnp.ones((2, 4)), state)
    return layer, (jnp.ones(4), state)


def _scopes(layer, args):
    def f(*a):
        out = layer(*a, key=KEY) if type(layer).__name__ == "Dropout" else layer(*a)
        return out

    text = jax.jit(f).lower(*args).as_text(debug_info=True)
    # The scope path of each operation, without the operation's own name.
    return {m.rsplit("/", 1)[0] for m in re.findall(r"eqx\.nn\.[\w./]+", text)}


@pytest.mark.parametrize("name", sorted(_cases(eqx)))
def test_scopes_match_equinox(name):
    ours, args = _cases(eqx)[name]
    theirs, their_args = _cases(equinox)[name]  # (a State is each library's own)
    expected = _scopes(theirs, their_args)
    assert expected, "the model should name at least one scope"
    assert _scopes(ours, args) == expected


def test_a_small_model_reads_like_equinox():
    def model(lib):
        k1, k2 = jr.split(KEY)
        return lib.nn.Sequential(
            [
                lib.nn.Conv2d(3, 4, 3, padding=1, key=k1),
                lib.nn.Lambda(jax.nn.relu),
                lib.nn.MaxPool2d(2, 2),
                lib.nn.Lambda(jnp.ravel),
                lib.nn.Linear(4 * 4 * 4, 2, key=k2),
            ]
        )

    x = (jnp.ones((3, 8, 8)),)
    assert _scopes(model(eqx), x) == _scopes(model(equinox), x)


def test_every_scoped_layer_exists_in_equinox():
    for name in SCOPED:
        assert hasattr(equinox.nn, name) and hasattr(eqx.nn, name)
