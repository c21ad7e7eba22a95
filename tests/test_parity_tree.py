"""Tree tools compared with Equinox: `tree_at`, `tree_equal`, `tree_check`,
`tree_flatten_one_level`, and pretty-printing."""

import functools
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")


def _same_error(fn: Any, builtin: type[Exception]) -> None:
    """`fn(lib)` raises `builtin` with both libraries."""
    with pytest.raises(builtin):
        fn(eqx_ref)
    with pytest.raises(builtin):
        fn(eqx)


def test_tree_at_replaces_an_empty_tuple():
    ours = eqx.tree_at(lambda t: t[0], ((), 1), 5)
    assert ours == eqx_ref.tree_at(lambda t: t[0], ((), 1), 5) == (5, 1)
    tree = {"a": (), "b": [(), ()]}
    ours = eqx.tree_at(lambda t: t["b"][1], tree, "x")
    assert ours == eqx_ref.tree_at(lambda t: t["b"][1], tree, "x")
    assert ours == {"a": (), "b": [(), "x"]}
    got = eqx.tree_at(lambda t: t["a"], tree, replace_fn=lambda x: (x, x))
    assert got == eqx_ref.tree_at(lambda t: t["a"], tree, replace_fn=lambda x: (x, x))


def test_tree_at_where_depending_on_leaves_is_a_value_error():
    class Model(eqx.Module):
        w: jax.Array
        n: int

    model = Model(jnp.ones(2), 3)
    ref_model = {"w": jnp.ones(2), "n": 3}
    with pytest.raises(ValueError):
        eqx_ref.tree_at(lambda t: eqx_ref.filter(t, eqx_ref.is_array), ref_model, 0)
    with pytest.raises(ValueError, match="depends on leaf values"):
        eqx.tree_at(lambda t: eqx.filter(t, eqx.is_array), model, 0)

    def arrays(lib: Any) -> Any:
        return lambda t: [x for x in jtu.tree_leaves(t) if lib.is_array(x)]

    _same_error(lambda lib: lib.tree_at(arrays(lib), ref_model, [0]), ValueError)


def test_tree_at_count_mismatch_and_empty_selection():
    tree = {"a": 1, "b": 2}
    _same_error(lambda lib: lib.tree_at(lambda t: [], tree, [1]), ValueError)
    both = lambda t: (t["a"], t["b"])  # noqa: E731
    _same_error(lambda lib: lib.tree_at(both, tree, (1,)), ValueError)
    assert eqx.tree_at(lambda t: [], tree, []) == eqx_ref.tree_at(
        lambda t: [], tree, []
    )


def test_tree_at_non_sequence_replace_is_a_type_error():
    tree = {"a": 1, "b": 2}
    both = lambda t: (t["a"], t["b"])  # noqa: E731
    _same_error(lambda lib: lib.tree_at(both, tree, 3), TypeError)
    _same_error(lambda lib: lib.tree_at(lambda t: 7, tree, 3), TypeError)


def test_tree_equal_returns_a_jax_bool_for_jax_arrays():
    trees = [({"a": jnp.ones(2)}, {"a": jnp.ones(2)}), ([1, "x"], [1, "x"])]
    trees += [(np.ones(2), np.ones(2)), (jnp.ones(2), jnp.zeros(2))]
    for x, y in trees:
        ours, ref = eqx.tree_equal(x, y), eqx_ref.tree_equal(x, y)
        assert isinstance(ours, jax.Array) == isinstance(ref, jax.Array)
        assert bool(ours) == bool(ref)
    assert eqx.tree_equal([1], [1]) is True

    @jax.jit
    def under_jit(x, y):
        return eqx.tree_equal(x, y)

    assert bool(under_jit(jnp.ones(2), jnp.ones(2)))


def test_tree_equal_tolerances_match_allclose():
    x = jnp.array([1.0, jnp.inf])
    y = jnp.array([1.001, jnp.inf])
    for kwargs in [{}, {"rtol": 1e-2}, {"atol": 1e-4}]:
        assert bool(eqx.tree_equal(x, y, **kwargs)) == bool(
            eqx_ref.tree_equal(x, y, **kwargs)
        )


def test_tree_flatten_one_level():
    for tree in [{"a": 3, "b": (1, 2)}, 4, [None, [1]], ()]:
        ours = eqx.tree_flatten_one_level(tree)
        ref = eqx_ref.tree_flatten_one_level(tree)
        assert ours[0] == ref[0] and ours[1] == ref[1]
    cycle: list[Any] = []
    cycle.append(cycle)
    _same_error(lambda lib: lib.tree_flatten_one_level(cycle), ValueError)


def test_tree_check():
    shared = [1]
    leaf_module = eqx.Module()
    fine = [[1, 1], [None, None], [[], []], [leaf_module, leaf_module], [[1], [1]]]
    for tree in fine:
        assert eqx.tree_check(tree) is None
        assert eqx_ref.tree_check(tree) is None
    linear = eqx.nn.Linear(2, 2, key=jax.random.PRNGKey(0))
    _same_error(lambda lib: lib.tree_check([shared, shared]), ValueError)
    with pytest.raises(ValueError, match="more than once"):
        eqx.tree_check([linear, linear])
    outer: list[Any] = []
    inner = [outer]
    outer.append(inner)
    _same_error(lambda lib: lib.tree_check(outer), ValueError)
    with pytest.raises(ValueError, match="inside itself"):
        eqx.tree_check(outer)


def test_pformat_matches_equinox():
    def f(x):
        return x

    cases = [
        jnp.asarray(1),
        jnp.asarray(1.0) * 1,
        jnp.ones((2, 3)),
        np.ones(3, np.float32),
        jax.ShapeDtypeStruct((2,), jnp.float32),
        f,
        jax.custom_jvp(f),
        jax.vmap(f),
        functools.partial(f, 1),
        len,
        [jnp.ones(3)] * 6,
    ]
    for case in cases:
        assert eqx.tree_pformat(case, width=20) == eqx_ref.tree_pformat(case, width=20)
    sds = jax.ShapeDtypeStruct((2,), jnp.float32)
    assert eqx.tree_pformat(sds, struct_as_array=True) == "f32[2]"
    assert eqx_ref.tree_pformat(sds, struct_as_array=True) == "f32[2]"


def test_pformat_truncate_leaf_and_pprint(capsys):
    key = jax.random.PRNGKey(0)
    ours = [eqx.nn.Linear(2, 2, key=key), 1]
    ref = [eqx_ref.nn.Linear(2, 2, key=key), 1]

    def is_linear(lib: Any) -> Any:
        return lambda x: isinstance(x, lib.nn.Linear)

    text = eqx.tree_pformat(ours, truncate_leaf=is_linear(eqx))
    assert text == eqx_ref.tree_pformat(ref, truncate_leaf=is_linear(eqx_ref))
    eqx.tree_pprint(ours, truncate_leaf=is_linear(eqx))
    assert capsys.readouterr().out == "[Linear(...), 1]\n"
