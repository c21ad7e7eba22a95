"""is_array & co, filter, partition, combine."""

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx


class HasArrays:
    def __jax_array__(self):
        return jnp.ones(2)


@pytest.mark.parametrize(
    ("value", "array", "array_like", "inexact", "inexact_like"),
    [
        (jnp.ones(2), True, True, True, True),
        (jnp.ones(2, jnp.int32), True, True, False, False),
        (np.ones(2), True, True, True, True),
        (np.float32(1.0), True, True, True, True),
        (1.0, False, True, False, True),
        (1, False, True, False, False),
        (True, False, True, False, False),
        (1j, False, True, False, True),
        ("a", False, False, False, False),
        (jax.nn.relu, False, False, False, False),
        (HasArrays(), False, True, False, True),
    ],
)
def test_predicates(value, array, array_like, inexact, inexact_like):
    assert eqx.is_array(value) is array
    assert eqx.is_array_like(value) is array_like
    assert eqx.is_inexact_array(value) is inexact
    assert eqx.is_inexact_array_like(value) is inexact_like


def _tree():
    return {"w": jnp.ones(2), "n": 3, "f": jax.nn.relu, "i": jnp.arange(2)}


def test_filter_and_inverse():
    kept = eqx.filter(_tree(), eqx.is_array)
    assert kept["n"] is None and kept["f"] is None
    assert kept["w"] is not None and kept["i"] is not None
    dropped = eqx.filter(_tree(), eqx.is_array, inverse=True)
    assert dropped["w"] is None and dropped["n"] == 3
    replaced = eqx.filter(_tree(), eqx.is_array, replace=0)
    assert replaced["n"] == 0


def test_partition_and_combine_round_trip():
    tree = _tree()
    params, static = eqx.partition(tree, eqx.is_inexact_array)
    assert params["i"] is None and static["w"] is None
    back = eqx.combine(params, static)
    assert jtu.tree_structure(back) == jtu.tree_structure(tree)
    assert back["f"] is jax.nn.relu and back["w"] is tree["w"]


def test_filter_spec_as_prefix_tree():
    tree = {"a": [jnp.ones(1), 2.0], "b": [jnp.ones(1), 3.0]}
    spec = {"a": True, "b": eqx.is_array}
    kept = eqx.filter(tree, spec)
    assert kept["a"][1] == 2.0
    assert kept["b"][1] is None and kept["b"][0] is not None


def test_filter_spec_bool():
    assert eqx.filter([1, 2], False) == [None, None]


def test_bad_filter_spec_leaf():
    with pytest.raises(eqx.TreeError, match="must be a bool or a callable.*got str"):
        eqx.filter({"a": 1}, {"a": "yes"})


def test_filter_spec_structure_mismatch():
    with pytest.raises(eqx.TreeError, match="PyTree prefix"):
        eqx.filter({"a": 1}, {"b": True})


def test_combine_errors():
    with pytest.raises(eqx.TreeError, match="at least one"):
        eqx.combine()
    with pytest.raises(eqx.TreeError, match="one structure"):
        eqx.combine([1, None], [None, 2, 3])


def test_combine_with_is_leaf():
    a = [(None, 1), None]
    b = [None, (2, 3)]
    out = eqx.combine(a, b, is_leaf=lambda x: isinstance(x, tuple))
    assert out == [(None, 1), (2, 3)]


def test_partition_of_a_model():
    model = eqx.nn.MLP(2, 2, 4, 1, key=jax.random.PRNGKey(0))
    params, static = eqx.partition(model, eqx.is_array)
    assert all(eqx.is_array(x) for x in jtu.tree_leaves(params))
    assert static.activation is jax.nn.relu
    assert static.layers[0].weight is None
    assert eqx.combine(params, static) == model
