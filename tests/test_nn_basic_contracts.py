"""Shape contracts of LayerNorm, RMSNorm, GroupNorm, Dropout, Embedding, PReLU,
GRUCell and LSTMCell: a wrong size, rank or dtype is a `ShapeError` naming the
layer, the argument and the dimension, eagerly, under `filter_jit` and under
`filter_vmap`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx
from helpers import ones

KEY = jr.PRNGKey(0)
H = ones(4)


def _layers():
    return {
        "LayerNorm": eqx.nn.LayerNorm((2, 3)),
        "RMSNorm": eqx.nn.RMSNorm(5),
        "GroupNorm": eqx.nn.GroupNorm(2, 4),
        "Dropout": eqx.nn.Dropout(0.5, inference=True),
        "Embedding": eqx.nn.Embedding(6, 3, key=KEY),
        "PReLU": eqx.nn.PReLU(jnp.full((3,), 0.2)),
        "GRUCell": eqx.nn.GRUCell(3, 4, key=KEY),
        "LSTMCell": eqx.nn.LSTMCell(3, 4, key=KEY),
    }


# (layer, what is wrong, positional arguments, argument named, text naming the dim)
CASES = [
    ("LayerNorm", "size", (ones(2, 4),), "x", "*shape"),
    ("LayerNorm", "rank", (ones(7, 2, 3),), "x", "*shape"),
    ("LayerNorm", "dtype", (ones(2, 3, dtype=jnp.int32),), "x", "float dtype"),
    ("RMSNorm", "size", (ones(4),), "x", "*shape"),
    ("RMSNorm", "rank", (ones(7, 5),), "x", "*shape"),
    ("RMSNorm", "dtype", (ones(5, dtype=jnp.int32),), "x", "float dtype"),
    ("GroupNorm", "size", (ones(6, 3),), "x", "channels=4"),
    ("GroupNorm", "rank", (ones(),), "x", "channels"),
    ("GroupNorm", "dtype", (ones(4, 3, dtype=jnp.int32),), "x", "float dtype"),
    ("Dropout", "dtype", (ones(3, dtype=jnp.int32),), "x", "float dtype"),
    ("Embedding", "rank", (jnp.arange(2),), "x", 'Array, ""'),
    ("Embedding", "dtype", (ones(),), "x", "integer dtype"),
    ("PReLU", "size", (ones(4),), "x", "negative_slope of shape (3,)"),
    ("PReLU", "rank", (ones(),), "x", "negative_slope of shape (3,)"),
    ("PReLU", "dtype", (ones(3, dtype=jnp.int32),), "x", "float dtype"),
    ("GRUCell", "size", (ones(5), H), "input", "input_size=3"),
    ("GRUCell", "size", (ones(3), ones(5)), "hidden", "hidden_size=4"),
    ("GRUCell", "rank", (ones(7, 3), H), "input", "input_size"),
    ("GRUCell", "dtype", (ones(3, dtype=jnp.int32), H), "input", "dtype, got i32"),
    ("LSTMCell", "size", (ones(5), (H, H)), "input", "input_size=3"),
    ("LSTMCell", "size", (ones(3), (H, ones(5))), "hidden", "hidden_size=4"),
    ("LSTMCell", "rank", (ones(3), (ones(7, 4), H)), "hidden", "hidden_size"),
    ("LSTMCell", "dtype", (ones(3), (H, H.astype(jnp.int32))), "hidden", "float"),
]


def _eager(layer, args):
    return layer(*args)


def _jit(layer, args):
    return eqx.filter_jit(lambda m, a: m(*a))(layer, args)


def _vmap(layer, args):
    stacked = jax.tree.map(lambda a: jnp.stack([a, a]), args)
    return eqx.filter_vmap(lambda a: layer(*a))(stacked)


@pytest.fixture(params=[_eager, _jit, _vmap], ids=["eager", "jit", "vmap"])
def call(request):
    return request.param


@pytest.mark.parametrize(
    ("name", "kind", "args", "parameter", "dim"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES],
)
def test_bad_input_is_a_shape_error(call, name, kind, args, parameter, dim):
    layer = _layers()[name]
    with pytest.raises(eqx.ShapeError) as info:
        call(layer, args)
    error = info.value
    assert error.path == name and error.parameter == parameter
    assert f"{name}.__call__: argument {parameter}" in str(error)
    assert dim in str(error)


GOOD = {
    "LayerNorm": ((ones(2, 3),), (2, 3)),
    "RMSNorm": ((ones(5),), (5,)),
    "GroupNorm": ((ones(4, 3),), (4, 3)),
    "Dropout": ((ones(3),), (3,)),
    "Embedding": ((jnp.asarray(2),), (3,)),
    "PReLU": ((ones(2, 3),), (2, 3)),
    "GRUCell": ((ones(3), H), (4,)),
    "LSTMCell": ((ones(3), (H, H)), ((4,), (4,))),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_input_passes_everywhere(call, name):
    args, shape = GOOD[name]
    out = call(_layers()[name], args)
    batch = (2,) if call is _vmap else ()
    expected = jax.tree.map(
        lambda s: batch + s,
        shape,
        is_leaf=lambda s: isinstance(s, tuple) and (not s or isinstance(s[0], int)),
    )
    assert jax.tree.map(jnp.shape, out) == expected
