"""Filters compared with Equinox: a filter spec that is itself a Module."""

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")


def _frozen_spec(lib, model):
    """The frozen-layer pattern: train only the last layer's weight."""
    spec = jtu.tree_map(lambda _: False, model)
    return lib.tree_at(lambda m: m.layers[-1].weight, spec, replace=True)


@pytest.mark.parametrize("lib_name", ["ours", "ref"])
def test_module_filter_spec_is_a_tree_of_decisions(lib_name):
    lib = eqx if lib_name == "ours" else eqx_ref
    key = jax.random.PRNGKey(0)
    model = lib.nn.MLP(2, 2, 3, 1, key=key)
    spec = _frozen_spec(lib, model)
    assert callable(spec)  # a Module with `__call__`, yet not a predicate
    kept = lib.filter(model, spec)
    assert jtu.tree_leaves(kept) == [model.layers[-1].weight]
    left, right = lib.partition(model, spec)
    assert jtu.tree_leaves(left) == [model.layers[-1].weight]
    assert len(jtu.tree_leaves(right)) == len(jtu.tree_leaves(model)) - 1
    assert lib.tree_equal(lib.combine(left, right), model)


def test_module_filter_spec_same_result_as_equinox():
    key = jax.random.PRNGKey(0)
    ours, ref = eqx.nn.MLP(2, 2, 3, 1, key=key), eqx_ref.nn.MLP(2, 2, 3, 1, key=key)
    got = eqx.partition(ours, _frozen_spec(eqx, ours))
    expected = eqx_ref.partition(ref, _frozen_spec(eqx_ref, ref))
    for g, e in zip(got, expected):
        g_leaves, e_leaves = jtu.tree_leaves(g), jtu.tree_leaves(e)
        assert len(g_leaves) == len(e_leaves)
        for a, b in zip(g_leaves, e_leaves):
            assert eqx.is_array(a) == eqx.is_array(b)
            if eqx.is_array(a):
                assert a.shape == b.shape and bool(jnp.all(a == b))


def test_callable_leaf_spec_is_still_a_predicate():
    tree = [jnp.ones(2), 1]
    ours, ref = eqx.filter(tree, eqx.is_array), eqx_ref.filter(tree, eqx_ref.is_array)
    assert ours[1] is ref[1] is None
