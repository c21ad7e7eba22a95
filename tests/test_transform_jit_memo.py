"""filter_jit's memo of known objects (`_transform/_memo.py`) never changes a result:
every memoised call returns what a fresh wrapper (which flattens its arguments)
returns, whatever happened to the objects in between."""

import gc

import equinox as eqx_ref
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
from hypothesis import given, settings

import typedeqx as eqx


def _construct_and_rescale(lib):
    """The reproducer of issue 21: `__init__` calls a jitted function on `self`,
    then reassigns the field it read."""
    total = lib.filter_jit(lambda m: m.w.sum())

    class M(lib.Module):
        w: jax.Array

        def __init__(self):
            self.w = jnp.ones(3)
            self.w = self.w / total(self)

    return total(M())


def test_object_under_construction_is_never_known():
    assert float(_construct_and_rescale(eqx_ref)) == 1.0
    assert float(_construct_and_rescale(eqx)) == 1.0


def test_built_module_holding_one_under_construction():
    class Child(eqx.Module):
        parent: eqx.Module

    total = eqx.filter_jit(lambda c: c.parent.w.sum())
    seen = []

    class Parent(eqx.Module):
        w: jax.Array

        def __init__(self):
            self.w = jnp.ones(2)
            child = Child(self)  # built, but holds `self`, still changing
            seen.append(float(total(child)))
            self.w = jnp.full(2, 5.0)
            seen.append(float(total(child)))

    Parent()
    assert seen == [2.0, 10.0]


def test_numpy_leaf_edited_in_place_is_seen():
    class Holder(eqx.Module):
        w: np.ndarray

    holder = Holder(np.ones(3, np.float32))
    f = eqx.filter_jit(lambda h: (h, h.w.sum()))
    assert float(f(holder)[1]) == 3.0
    holder.w[:] = 2.0
    assert float(f(holder)[1]) == 6.0
    holder.w.shape = (3, 1)  # in place, even the shape
    out, total = f(holder)
    assert out.w.shape == (3, 1) and float(total) == 6.0


def test_object_setattr_on_a_built_module():
    class Box(eqx.Module):
        w: jax.Array

    box = Box(jnp.ones(2))
    f = eqx.filter_jit(lambda b: b.w.sum())
    assert float(f(box)) == 2.0
    with pytest.raises(AttributeError, match="also through object.__setattr__"):
        object.__setattr__(box, "w", jnp.zeros(2))
    assert float(f(box)) == 2.0


# --- the differential property: memoised wrapper vs a fresh wrapper per call ---


class Lin(eqx.Module):
    w: jax.Array
    b: jax.Array
    tag: int = eqx.field(static=True, default=0)


class NpLin(eqx.Module):
    w: np.ndarray
    b: jax.Array


class Pair(eqx.Module):
    left: eqx.Module
    right: eqx.Module


def _step(m, extra, x):
    """Uses every array of `m` and `extra`; returns `m` unchanged, an updated copy,
    and a scalar, so that outputs come back as arguments."""
    leaves = jtu.tree_leaves((m, extra))
    total = sum(jnp.sum(jnp.asarray(leaf, jnp.float32)) for leaf in leaves) * x
    total = total + getattr(m, "tag", -1) - 10 * getattr(extra, "tag", -1)
    updated = jtu.tree_map(lambda a: a * 0.5 + 1.0, m)
    return updated, (m, extra), total


def _new_object(kind, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2, 2)).astype(np.float32)
    b = rng.normal(size=2).astype(np.float32)
    if kind == 0:
        return Lin(jnp.asarray(w), jnp.asarray(b), seed % 3)
    if kind == 1:
        return NpLin(w, jnp.asarray(b))
    inner = Lin(jnp.asarray(w), jnp.asarray(b))
    return Pair(inner, inner)  # the same submodule twice: shared leaves


_OPS = st.one_of(
    st.tuples(st.just("call"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("numpy_edit"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("tree_at"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("new"), st.integers(0, 2), st.integers(0, 99)),
    st.tuples(st.just("drop"), st.integers(0, 99), st.integers(0, 1)),
)


def _assert_same(got, want):
    assert jtu.tree_structure(got) == jtu.tree_structure(want)
    for a, b in zip(jtu.tree_leaves(got), jtu.tree_leaves(want)):
        assert type(a) is type(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@settings(max_examples=40)
@given(ops=st.lists(_OPS, min_size=1, max_size=25))
def test_memo_results_equal_a_fresh_wrapper(ops):
    memoised = eqx.filter_jit(_step)
    # any object may come back in any argument position, known or not
    pool = [_new_object(0, 0), _new_object(0, 1), _new_object(1, 2), _new_object(2, 3)]
    pool.append(None)
    x = jnp.float32(1.5)
    for op, i, j in ops:
        if op == "call":
            m, extra = pool[i % len(pool)], pool[j % len(pool)]
            got = memoised(m, extra, x)
            want = eqx.filter_jit(_step)(m, extra, x)  # a fresh wrapper flattens
            _assert_same(got, want)
            pool += [got[0], got[1], got[1][0]]
        elif op == "numpy_edit":
            holders = [m for m in pool if isinstance(getattr(m, "w", 0), np.ndarray)]
            if holders:
                holders[i % len(holders)].w[j % 2] += np.float32(j)
        elif op == "tree_at":
            m = pool[i % len(pool)]
            if isinstance(m, eqx.Module):
                leaf = jtu.tree_leaves(m)[0]
                pool.append(eqx.tree_at(lambda t: jtu.tree_leaves(t)[0], m, leaf + j))
        elif op == "new":
            pool.append(_new_object(i, j))
        elif len(pool) > 1:  # drop: let an object die, so that its id is reused
            pool.pop(i % len(pool))
            if j:
                gc.collect()
