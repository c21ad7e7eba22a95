"""nn.State, nn.StateIndex, make_with_state, delete_init_state, StatefulLayer."""

import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx
from helpers import ones, tree_allclose

equinox = pytest.importorskip("equinox")


class Counter(eqx.nn.StatefulLayer):
    index: eqx.nn.StateIndex

    def __init__(self):
        self.index = eqx.nn.StateIndex(jnp.array(0))

    def __call__(self, x, state, *, key=None):
        count = state.get(self.index)
        return x + count, state.set(self.index, count + 1)


class Two(eqx.Module):
    a: Counter
    b: Counter

    def __init__(self):
        self.a = Counter()
        self.b = Counter()


def test_get_set_returns_new_state():
    model, state = eqx.nn.make_with_state(Counter)()
    assert state.get(model.index) == 0
    y, new = model(jnp.array(1), state)
    assert y == 1 and new.get(model.index) == 1
    y, newer = model(y, new)
    assert y == 2 and newer.get(model.index) == 2


def test_old_state_is_invalid_as_in_equinox():
    model, state = eqx.nn.make_with_state(Counter)()
    state.set(model.index, jnp.array(5))
    with pytest.raises(ValueError, match="already updated"):
        state.get(model.index)
    with pytest.raises(ValueError, match="already updated"):
        jtu.tree_leaves(state)
    # Equinox raises the same exception type for the same misuse.
    theirs = equinox.nn.StateIndex(jnp.array(0))
    eq_model, eq_state = equinox.nn.make_with_state(lambda: [theirs])()
    eq_state.set(eq_model[0], jnp.array(1))
    with pytest.raises(ValueError):
        eq_state.get(eq_model[0])


def test_set_rejects_another_structure():
    model, state = eqx.nn.make_with_state(Counter)()
    with pytest.raises(ValueError, match="same structure, shapes and dtypes"):
        state.set(model.index, jnp.zeros(2, jnp.int32))
    with pytest.raises(ValueError, match="StateIndex"):
        state.get("index")


def test_state_is_a_pytree_and_keys_are_paths():
    model, state = eqx.nn.make_with_state(Two)()
    leaves, treedef = jtu.tree_flatten(state)
    assert len(leaves) == 2
    assert (model.a.index.marker, model.b.index.marker) == (
        "Two.a.index",
        "Two.b.index",
    )
    copy = jtu.tree_unflatten(treedef, leaves)
    assert copy.get(model.b.index) == 0
    # Two models built the same way share their state keys.
    other, _ = eqx.nn.make_with_state(Two)()
    assert state.get(other.a.index) == 0


def test_markers_match_equinox(getkey):
    ours, _ = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "b", mode="batch")
    theirs, _ = equinox.nn.make_with_state(equinox.nn.BatchNorm)(3, "b", mode="batch")
    assert ours.batch_counter.marker == theirs.batch_counter.marker
    assert ours.batch_state_index.marker == theirs.batch_state_index.marker


def test_state_through_filter_jit():
    model, state = eqx.nn.make_with_state(Counter)()
    step = eqx.filter_jit(lambda m, x, s: m(x, s))
    x = ones()
    for _ in range(3):
        x, state = step(model, x, state)
    assert x == 4.0 and state.get(model.index) == 3


def test_delete_init_state():
    model = Two()
    state = eqx.nn.State(model)
    stripped = eqx.nn.delete_init_state(model)
    assert jtu.tree_leaves(stripped) == []
    assert len(jtu.tree_leaves(state)) == 2
    with pytest.raises(ValueError, match="make_with_state"):
        eqx.nn.State(stripped)


def test_substate_and_update():
    model, state = eqx.nn.make_with_state(Two)()
    sub = model.a(jnp.array(0), state.substate(model.a))[1]
    assert len(jtu.tree_leaves(sub)) == 1
    state = state.update(sub)
    assert state.get(model.a.index) == 1 and state.get(model.b.index) == 0
    with pytest.raises(ValueError, match="State"):
        state.update({})


def test_state_index_rejects_a_function():
    with pytest.raises(ValueError, match="init"):
        eqx.nn.StateIndex(lambda: jnp.zeros(2))


def test_stateful_layer_default_and_repr():
    assert Counter().is_stateful()
    model, state = eqx.nn.make_with_state(Counter)()
    assert "Counter.index" in repr(state)
    state.set(model.index, jnp.array(1))
    assert repr(state) == "State(~old~)"


def test_same_initial_state_as_equinox(getkey):
    key = getkey()
    lin = eqx.nn.Linear(3, 4, key=key)
    eq_lin = equinox.nn.Linear(3, 4, key=key)
    for ours, theirs in [
        (
            eqx.nn.BatchNorm(3, "b", mode="ema"),
            equinox.nn.BatchNorm(3, "b", mode="ema"),
        ),
        (
            eqx.nn.SpectralNorm(lin, "weight", key=key),
            equinox.nn.SpectralNorm(eq_lin, "weight", key=key),
        ),
    ]:
        a = jtu.tree_leaves(eqx.nn.State(ours))
        b = jtu.tree_leaves(equinox.nn.State(theirs))
        assert len(a) == len(b)
        assert all(np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip(a, b))
        assert tree_allclose(jtu.tree_leaves(ours), jtu.tree_leaves(theirs))


def test_deleted_initial_state_keeps_its_shapes_and_dtypes():
    # A layer checks the State it is given against these (see _state_contract.py).
    model, _ = eqx.nn.make_with_state(Two)()
    assert repr(model.a.index.init) == "_Deleted(spec=i32[])"
    bn, _ = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "b", mode="batch")
    assert repr(bn.batch_state_index.init) == "_Deleted(spec=(f32[3], f32[3]))"
    # Still no leaves, and two models built the same way share one structure, so
    # compiled code is shared between them.
    other, _ = eqx.nn.make_with_state(Two)()
    assert jtu.tree_leaves(model) == []
    assert jtu.tree_structure(model) == jtu.tree_structure(other)
    # Deleting twice keeps the first record.
    assert eqx.nn.delete_init_state(model) == model


def test_a_user_layer_given_another_models_state_gets_a_key_error_that_says_why():
    # A user's own stateful layer reads its State with `state.get`; Equinox raises a
    # bare KeyError: 'Counter.index'.
    model, _ = eqx.nn.make_with_state(Counter)()
    _, other = eqx.nn.make_with_state(Two)()
    with pytest.raises(KeyError) as info:
        model(jnp.array(1), other)
    assert str(info.value) == (
        "State.get: no entry 'Counter.index' in this State (it holds 'Two.a.index', "
        "'Two.b.index'): it was made for another model. Pass the State made "
        "together with this model by `eqx.nn.make_with_state`, or the State its "
        "previous call returned."
    )
