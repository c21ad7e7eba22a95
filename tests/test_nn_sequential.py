"""nn.Sequential and nn.Lambda."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from helpers import ones

equinox = pytest.importorskip("equinox")


def test_sequential_calls_in_order(getkey):
    first = eqx.nn.Linear(2, 3, key=getkey())
    seq = eqx.nn.Sequential(
        [first, eqx.nn.Lambda(jax.nn.relu), eqx.nn.Linear(3, 1, key=getkey())]
    )
    x = jnp.ones(2)
    expected = seq.layers[2](jax.nn.relu(first(x)))
    assert np.allclose(seq(x), expected)
    assert np.allclose(seq(x, key=getkey()), expected)


def test_sequential_is_indexable(getkey):
    seq = eqx.nn.Sequential([eqx.nn.Identity(), eqx.nn.Lambda(jnp.sin)])
    assert len(seq) == 2
    assert isinstance(seq[0], eqx.nn.Identity)
    assert isinstance(seq[1:], eqx.nn.Sequential) and len(seq[1:]) == 1
    assert [type(x) for x in seq] == [eqx.nn.Identity, eqx.nn.Lambda]


def test_keys_are_split_per_layer(getkey):
    seen = []

    class Record(eqx.Module):
        def __call__(self, x, *, key=None):
            seen.append(key)
            return x

    eqx.nn.Sequential([Record(), Record()])(jnp.ones(1), key=getkey())
    assert len(seen) == 2 and not np.array_equal(seen[0], seen[1])


def test_lambda_is_a_pytree_with_no_array_leaves():
    lam = eqx.nn.Lambda(jnp.tanh)
    assert [x for x in jax.tree_util.tree_leaves(lam) if eqx.is_array(x)] == []


# --- state threading ---


def test_sequential_threads_state_like_equinox(getkey):
    key = getkey()
    make = lambda nn: nn.Sequential(  # noqa: E731
        [
            nn.Linear(3, 4, key=key),
            nn.BatchNorm(4, "batch", mode="batch"),
            nn.Lambda(jax.nn.relu),
            nn.Sequential([nn.BatchNorm(4, "batch", mode="ema")]),
        ]
    )
    ours, state = eqx.nn.make_with_state(make)(eqx.nn)
    theirs, eq_state = equinox.nn.make_with_state(make)(equinox.nn)
    assert ours.is_stateful() and not ours[:1].is_stateful()
    x = jr.normal(getkey(), (5, 3))
    for _ in range(2):
        y, state = eqx.filter_jit(
            eqx.filter_vmap(
                ours,
                axis_name="batch",
                in_axes=(eqx.if_array(0), None),
                out_axes=(eqx.if_array(0), None),
            )
        )(x, state)
        ey, eq_state = jax.vmap(
            theirs, axis_name="batch", in_axes=(0, None), out_axes=(0, None)
        )(x, eq_state)
        assert np.allclose(y, ey, atol=1e-5)
    # batch mode: a counter and two statistics; ema mode: a flag and two statistics.
    assert len(jax.tree_util.tree_leaves(state)) == 6


def test_state_passes_through_stateless_layers(getkey):
    seq = eqx.nn.Sequential([eqx.nn.Linear(2, 2, key=getkey())])
    _, state = eqx.nn.make_with_state(
        lambda: [eqx.nn.BatchNorm(1, "b", mode="batch")]
    )()
    y, same = seq(ones(2), state)
    assert y.shape == (2,) and same is state
    assert seq(ones(2)).shape == (2,)


def test_stateful_layer_without_state_is_an_error():
    seq, _ = eqx.nn.make_with_state(eqx.nn.Sequential)(
        [eqx.nn.BatchNorm(2, "b", mode="batch")]
    )
    with pytest.raises(ValueError, match=r"layers\[0\] \(BatchNorm\) is stateful"):
        seq(ones(2))


def test_bad_index_type():
    with pytest.raises(TypeError, match="int or slice"):
        eqx.nn.Sequential([eqx.nn.Identity()])["0"]
