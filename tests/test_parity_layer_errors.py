"""The exception types of bad inputs, against Equinox: for a wrong rank or size in
each layer family, the type Equinox raises (asserted here, so the table below is
measured, not remembered) also catches typedeqx's diagnosis, eagerly and under
`filter_jit`. Where Equinox raises neither `TypeError` nor `ValueError` (its pools
assert their rank; its adaptive pools divide by zero on an axis shorter than the
target; its GroupNorm indexes the shape of a rank-0 input), the contract rule names
the extra type (`Rank(..., raises=...)`)."""

import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx

equinox = pytest.importorskip("equinox")

K = jr.PRNGKey(0)
_CELL_ARGS = (jnp.ones(3), jnp.ones(3))


def _ones(*shape):
    return jnp.ones(shape)


# name -> (Equinox's type, layer from a library, arguments)
CASES = {
    "Conv2d rank": (ValueError, lambda nn: nn.Conv2d(2, 3, 3, key=K), (_ones(2, 5),)),
    "Conv2d channels": (
        ValueError,
        lambda nn: nn.Conv2d(2, 3, 3, key=K),
        (_ones(3, 5, 5),),
    ),
    "Conv1d rank": (
        ValueError,
        lambda nn: nn.Conv1d(2, 3, 3, key=K),
        (_ones(1, 2, 5),),
    ),
    "ConvTranspose2d rank": (
        ValueError,
        lambda nn: nn.ConvTranspose2d(2, 3, 3, key=K),
        (_ones(2, 5),),
    ),
    "ConvTranspose2d channels": (
        ValueError,
        lambda nn: nn.ConvTranspose2d(2, 3, 3, key=K),
        (_ones(3, 5, 5),),
    ),
    "MaxPool2d rank": (AssertionError, lambda nn: nn.MaxPool2d(2), (_ones(2, 5),)),
    "MaxPool2d batch": (
        AssertionError,
        lambda nn: nn.MaxPool2d(2),
        (_ones(1, 2, 5, 5),),
    ),
    "MaxPool1d rank": (AssertionError, lambda nn: nn.MaxPool1d(2), (_ones(5),)),
    "AvgPool1d rank": (AssertionError, lambda nn: nn.AvgPool1d(2), (_ones(5),)),
    "AvgPool3d rank": (AssertionError, lambda nn: nn.AvgPool3d(2), (_ones(2, 5, 5),)),
    "AdaptiveAvgPool2d rank": (
        ValueError,
        lambda nn: nn.AdaptiveAvgPool2d(2),
        (_ones(2, 5),),
    ),
    "AdaptiveMaxPool1d rank": (
        ValueError,
        lambda nn: nn.AdaptiveMaxPool1d(2),
        (_ones(5),),
    ),
    "AdaptiveAvgPool1d too short": (
        ZeroDivisionError,
        lambda nn: nn.AdaptiveAvgPool1d(4),
        (_ones(1, 2),),
    ),
    "AdaptiveMaxPool2d too short": (
        ZeroDivisionError,
        lambda nn: nn.AdaptiveMaxPool2d(3),
        (_ones(1, 2, 5),),
    ),
    "AdaptiveAvgPool1d empty": (
        ZeroDivisionError,
        lambda nn: nn.AdaptiveAvgPool1d(2),
        (_ones(1, 0),),
    ),
    "LayerNorm shape": (ValueError, lambda nn: nn.LayerNorm(4), (_ones(3),)),
    "LayerNorm rank": (ValueError, lambda nn: nn.LayerNorm(4), (_ones(2, 4),)),
    "RMSNorm shape": (ValueError, lambda nn: nn.RMSNorm(4), (_ones(3),)),
    "GroupNorm channels": (TypeError, lambda nn: nn.GroupNorm(2, 4), (_ones(3, 5),)),
    "GroupNorm rank 0": (IndexError, lambda nn: nn.GroupNorm(2, 4), (_ones(),)),
    "Embedding rank": (
        ValueError,
        lambda nn: nn.Embedding(4, 3, key=K),
        (jnp.ones((2,), jnp.int32),),
    ),
    "Embedding float index": (
        TypeError,
        lambda nn: nn.Embedding(4, 3, key=K),
        (jnp.ones((), jnp.float32),),
    ),
    "Linear size": (TypeError, lambda nn: nn.Linear(4, 3, key=K), (_ones(3),)),
    "Linear rank": (TypeError, lambda nn: nn.Linear(4, 3, key=K), (_ones(2, 4),)),
    "MLP size": (TypeError, lambda nn: nn.MLP(4, 3, 5, 1, key=K), (_ones(3),)),
    "PReLU size": (TypeError, lambda nn: nn.PReLU(jnp.ones(3)), (_ones(4),)),
    "PReLU rank": (ValueError, lambda nn: nn.PReLU(jnp.ones(3)), (_ones(2, 4),)),
    "GRUCell input size": (
        TypeError,
        lambda nn: nn.GRUCell(2, 3, key=K),
        _CELL_ARGS,
    ),
    "GRUCell hidden size": (
        TypeError,
        lambda nn: nn.GRUCell(2, 3, key=K),
        (_ones(2), _ones(4)),
    ),
    "LSTMCell input size": (
        TypeError,
        lambda nn: nn.LSTMCell(2, 3, key=K),
        (_ones(3), _CELL_ARGS),
    ),
    "MultiheadAttention size": (
        TypeError,
        lambda nn: nn.MultiheadAttention(2, 4, key=K),
        (_ones(3, 5),) * 3,
    ),
    "MultiheadAttention rank": (
        ValueError,
        lambda nn: nn.MultiheadAttention(2, 4, key=K),
        (_ones(4),) * 3,
    ),
    "RotaryPositionalEmbedding size": (
        ValueError,
        lambda nn: nn.RotaryPositionalEmbedding(4),
        (_ones(3, 6),),
    ),
    "Sequential inner size": (
        TypeError,
        lambda nn: nn.Sequential([nn.Linear(4, 3, key=K), nn.Linear(3, 2, key=K)]),
        (_ones(3),),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_equinox_type_catches_both(case):
    expected, build, args = CASES[case]
    # Equinox raises this type (the table is measured, so it cannot drift)...
    with pytest.raises(expected):
        build(equinox.nn)(*args)
    # ...and the same type catches typedeqx's diagnosis, eagerly and when traced.
    layer = build(eqx.nn)
    with pytest.raises(expected) as eager:
        layer(*args)
    with pytest.raises(expected) as traced:
        eqx.filter_jit(layer)(*args)
    for info in (eager, traced):
        assert isinstance(info.value, eqx.ShapeError), info.value
        assert type(layer).__name__ in str(info.value)


def test_the_extra_type_survives_pickling():
    import pickle

    with pytest.raises(AssertionError) as info:
        eqx.nn.MaxPool2d(2)(_ones(2, 5))
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, AssertionError) and isinstance(again, eqx.ShapeError)
    assert str(again) == str(info.value)
