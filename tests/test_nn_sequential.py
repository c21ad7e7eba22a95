"""nn.Sequential and nn.Lambda."""

import jax
import jax.numpy as jnp
import numpy as np

import typedeqx as eqx


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
