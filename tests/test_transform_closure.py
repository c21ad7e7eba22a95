"""filter_closure_convert."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


def test_closed_over_tracers_become_leaves():
    seen = {}

    @jax.grad
    def f(x, y):
        z = x + y
        g = eqx.filter_closure_convert(lambda a, n: (z * a * n, "tag"), 1.0 * x, 2)
        seen["consts"] = g.consts
        seen["leaves"] = jax.tree_util.tree_leaves(g)
        out, tag = g(x, 2)
        assert tag == "tag"
        return out

    np.testing.assert_allclose(f(1.0, 2.0), 2 * (2 * 1.0 + 2.0))
    assert len(seen["consts"]) >= 1
    assert all(any(c is leaf for leaf in seen["leaves"]) for c in seen["consts"])


def test_same_results_outside_transforms():
    w = jnp.arange(3.0)
    g = eqx.filter_closure_convert(lambda x: w * x, jnp.ones(3))
    np.testing.assert_allclose(g(jnp.full(3, 2.0)), 2 * np.arange(3.0))


def test_call_must_match_examples():
    g = eqx.filter_closure_convert(lambda x, n: x * n, jnp.ones(3), 2)
    with pytest.raises(eqx.TransformError, match=r"Traced with array arguments"):
        g(jnp.ones(4), 2)
    with pytest.raises(eqx.TransformError, match="same structure, static"):
        g(jnp.ones(3), 3)


def test_class_names_and_structs_match_equinox():
    eqx_ref = pytest.importorskip("equinox")

    def convert(lib, y):
        trivial = lib.filter_closure_convert(lambda x, n=2: x * n, jnp.ones(3), n=2)
        traced = lib.filter_closure_convert(lambda x: x * y, jnp.ones(3))
        return trivial, traced

    def names_and_structs(lib):
        seen = []

        @jax.jit
        def run(y):
            trivial, traced = convert(lib, y)
            for f in (trivial, traced):
                seen.append((type(f).__name__, f.in_struct, f.out_struct))
            return traced(jnp.ones(3))

        run(jnp.array(2.0))
        return seen

    ours, theirs = names_and_structs(eqx), names_and_structs(eqx_ref)
    assert [name for name, _, _ in ours] == [
        "_TrivialClosureConvert",
        "_ClosureConvert",
    ]
    assert ours == theirs
