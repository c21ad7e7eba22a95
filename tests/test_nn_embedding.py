"""nn.Embedding: Equinox parity, lookup, configuration errors, random indices."""

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

FIELDS = ("num_embeddings", "embedding_size", "weight")


@pytest.mark.parametrize(
    ("sizes", "kwargs"),
    [((10, 4), {}), ((1, 7), {}), ((6, 3), {"dtype": jnp.bfloat16}), ((0, 3), {})],
)
def test_matches_equinox(getkey, sizes, kwargs):
    key = getkey()
    ours = eqx.nn.Embedding(*sizes, **kwargs, key=key)
    theirs = eqx_ref.nn.Embedding(*sizes, **kwargs, key=key)
    assert_same_fields(ours, theirs, *FIELDS)
    for i in range(sizes[0]):
        for index in (i, jnp.asarray(i), np.int64(i), jnp.asarray(i, jnp.uint8)):
            assert_same_output(ours(index), theirs(index))


def test_float64_under_x64_matches_equinox(getkey):
    with jax.enable_x64(True):
        key = getkey()
        ours = eqx.nn.Embedding(5, 2, key=key)
        theirs = eqx_ref.nn.Embedding(5, 2, key=key)
        assert ours.weight.dtype == jnp.float64
        assert_same_fields(ours, theirs, *FIELDS)
        assert_same_output(ours(jnp.asarray(3)), theirs(jnp.asarray(3)))


def test_given_weight_is_looked_up(getkey):
    weight = jr.normal(getkey(), (5, 3))
    layer = eqx.nn.Embedding(weight=weight)
    assert (layer.num_embeddings, layer.embedding_size) == (5, 3)
    assert layer.weight is weight
    assert_same_fields(layer, eqx_ref.nn.Embedding(weight=weight), *FIELDS)
    indices = jnp.asarray([4, 0, 2])
    assert np.array_equal(jax.vmap(layer)(indices), np.asarray(weight)[[4, 0, 2]])
    assert eqx.nn.Embedding(5, 3, weight=weight).weight is weight


def test_initialisation_is_standard_normal(getkey):
    weight = np.asarray(eqx.nn.Embedding(200, 50, key=getkey()).weight)
    assert abs(weight.mean()) < 0.05 and abs(weight.std() - 1) < 0.05


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda k: eqx.nn.Embedding(3, 2), r"needs num_embeddings=\.\.\., "),
        (lambda k: eqx.nn.Embedding(3, key=k), r"or the table itself as weight"),
        (lambda k: eqx.nn.Embedding(-1, 2, key=k), r"num_embeddings=\.\.\.\) must be"),
        (lambda k: eqx.nn.Embedding(2, -3, key=k), r"embedding_size=\.\.\.\) must be"),
        (lambda k: eqx.nn.Embedding(4, weight=jnp.ones((5, 3))), r"disagrees with"),
        (lambda k: eqx.nn.Embedding(None, 2, jnp.ones((5, 3))), r"embedding_size=2"),
        (lambda k: eqx.nn.Embedding(weight=jnp.ones(5)), r"got shape \(5,\)"),
    ],
)
def test_bad_configuration(getkey, make, match):
    with pytest.raises(ValueError, match=match):
        make(getkey())


@given(
    sizes=st.tuples(st.integers(1, 5), st.integers(0, 3)),
    index=st.integers(0, 4),
    ishape=st.lists(st.integers(1, 3), max_size=2),
    dtype=st.sampled_from([jnp.int32, jnp.float32]),
)
def test_random_indices(sizes, index, ishape, dtype):
    layer = eqx.nn.Embedding(*sizes, key=jr.PRNGKey(0))
    x = jnp.full(ishape, index % sizes[0], dtype)
    if ishape == [] and dtype == jnp.int32:
        out = layer(x)
        assert out.shape == (sizes[1],)
        assert np.array_equal(out, layer.weight[index % sizes[0]])
    else:
        with pytest.raises(eqx.ShapeError):
            layer(x)
