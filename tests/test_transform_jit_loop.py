"""filter_jit in a training loop: objects the previous call returned are not
flattened again, and the memo is never stale. Also `error_if` under filter_jit and
`clear_caches`."""

import gc
import weakref

import equinox as eqx_ref
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import typedeqx as eqx


def _loss(model, x, y):
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def _make_step(**jitkwargs):
    optim = optax.adam(1e-2)

    def step(model, opt_state, x, y):
        loss, grads = eqx.filter_value_and_grad(_loss)(model, x, y)
        params = eqx.filter(model, eqx.is_array)
        updates, opt_state = optim.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), opt_state, loss

    return step, optim


def _counting_flattens(f):
    """Count the calls that take the flattening path."""
    calls = []
    full = f._call

    def counted(args, kwargs):
        calls.append(None)
        return full(args, kwargs)

    f._call = counted
    return calls


@pytest.fixture
def data():
    return jr.normal(jr.PRNGKey(1), (4, 3)), jr.normal(jr.PRNGKey(2), (4, 3))


def _run(step, optim, model, x, y, n):
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    losses = []
    with jax.numpy_dtype_promotion("standard"):
        for _ in range(n):
            model, opt_state, loss = step(model, opt_state, x, y)
            losses.append(loss)
    return model, opt_state, np.asarray(losses)


def test_training_loop_does_not_flatten_returned_objects(data):
    x, y = data
    model = eqx.nn.MLP(3, 3, 4, 2, key=jr.PRNGKey(0))
    step, optim = _make_step()
    f = eqx.filter_jit(step)
    calls = _counting_flattens(f)
    trained, _, losses = _run(f, optim, model, x, y, 6)
    assert len(calls) <= 2  # the first call, and the first with returned objects
    # the same as with no memo at all: a fresh wrapper every step
    fresh = lambda *a: eqx.filter_jit(step)(*a)  # noqa: E731
    expected, _, expected_losses = _run(fresh, optim, model, x, y, 6)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-6)
    assert eqx.tree_equal(trained, expected, rtol=1e-6, atol=1e-6)


def test_tree_at_makes_a_new_object_and_is_flattened(data):
    x, y = data
    model = eqx.nn.MLP(3, 3, 4, 1, key=jr.PRNGKey(0))
    step, optim = _make_step()
    f = eqx.filter_jit(step)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    with jax.numpy_dtype_promotion("standard"):
        for _ in range(3):
            model, opt_state, _ = step(model, opt_state, x, y)
            model, opt_state, _ = f(model, opt_state, x, y)
        zeroed = eqx.tree_at(lambda m: m.layers[0].weight, model, jnp.zeros((4, 3)))
        got = f(zeroed, opt_state, x, y)
        want = eqx.filter_jit(step)(zeroed, opt_state, x, y)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6)
    assert eqx.tree_equal(got[0], want[0])


def test_same_objects_and_returned_objects_mixed():
    f = eqx.filter_jit(lambda m, n: (m, jax.tree.map(lambda a: a + 1, n)))
    a = eqx.nn.Linear(2, 2, key=jr.PRNGKey(0))
    b = a
    for i in range(4):
        a, b = f(a, b)  # `a` passes through, `b` is new each call
        np.testing.assert_allclose(b.bias, a.bias + i + 1, rtol=1e-6)


class Box(eqx.Module):
    w: jax.Array


def test_outputs_are_recorded_only_when_they_come_back():
    f = eqx.filter_jit(lambda b, x: Box(b.w + x))
    box, x = Box(jnp.zeros(2)), jnp.ones(2)
    calls = _counting_flattens(f)
    for _ in range(4):  # an evaluation loop: its output never comes back
        out = f(box, x)
        np.testing.assert_allclose(out.w, 1.0)
    assert len(calls) == 1
    assert set(f._known.table) == {id(box)}  # the argument only
    for _ in range(5):  # a loop that passes the output back
        box = f(box, x)
    np.testing.assert_allclose(box.w, 5.0)
    # The first call is a memo hit that records nothing; the next two flatten
    # (an unrecorded output, then an output whose token the memo did not expect).
    assert len(calls) == 3
    assert id(box) in f._known.table  # recorded from then on
    for _ in range(3):
        box = f(box, x)
    assert len(calls) == 3 and float(box.w[0]) == 8.0


def test_an_entry_goes_with_its_object_after_the_table_is_refilled():
    f = eqx.filter_jit(lambda b: b.w.sum())
    first, second = Box(jnp.ones(2)), Box(jnp.zeros(2))
    for box in (first, second, first, first):  # each miss refills the table
        f(box)
    assert set(f._known.table) == {id(first)}
    leaf = weakref.ref(first.w)
    del box, first
    assert f._known.table == {}
    gc.collect()
    assert leaf() is None  # the entry's arrays went with it
    assert float(f(second)) == 0.0


def test_objects_sharing_leaves():
    class Pair(eqx.Module):
        left: eqx.nn.Linear
        right: eqx.nn.Linear

    lin = eqx.nn.Linear(2, 2, key=jr.PRNGKey(0))
    f = eqx.filter_jit(lambda p: (Pair(p.right, p.left), p.left.weight.sum()))
    pair = Pair(lin, lin)
    total = lin.weight.sum()
    for _ in range(4):
        pair, s = f(pair)
        np.testing.assert_allclose(s, total, rtol=1e-6)
        np.testing.assert_array_equal(pair.left.weight, pair.right.weight)


def test_output_structure_changes_are_told_apart():
    class Box(eqx.Module):
        value: jax.Array
        tag: int = eqx.field(static=True)

    f = eqx.filter_jit(lambda box, tag: Box(box.value + box.tag, tag))
    box = Box(jnp.zeros(()), 1)
    for tag in (1, 2, 2, 5, 5, 1):
        expected = float(box.value) + box.tag
        box = f(box, tag)
        assert box.tag == tag and float(box.value) == expected


def test_old_models_are_garbage_collected(data):
    x, y = data
    model = eqx.nn.MLP(3, 3, 4, 1, key=jr.PRNGKey(0))
    step, optim = _make_step()
    f = eqx.filter_jit(step)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    refs = []
    with jax.numpy_dtype_promotion("standard"):
        for _ in range(20):
            refs.append(weakref.ref(model))
            model, opt_state, _ = f(model, opt_state, x, y)
            assert len(f._known.table) <= 8  # one call's objects, not a history
    gc.collect()
    assert sum(r() is not None for r in refs) <= 1  # at most the previous model
    del model, opt_state
    gc.collect()
    assert all(r() is None for r in refs)
    assert f._known.table == {}  # every entry went with its object


def test_donation_never_serves_deleted_buffers(data):
    x, y = data
    model = eqx.nn.MLP(3, 3, 4, 1, key=jr.PRNGKey(0))
    step, optim = _make_step()
    donating = eqx.filter_jit(step, donate="all")
    plain = eqx.filter_jit(step)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    with jax.numpy_dtype_promotion("standard"):
        model, opt_state, _ = plain(model, opt_state, x, y)
        model, opt_state, _ = plain(model, opt_state, x, y)
        for _ in range(3):
            old = model
            model, opt_state, loss = donating(model, opt_state, x, y)
            assert old.layers[0].weight.is_deleted()
            assert not model.layers[0].weight.is_deleted()
            assert not loss.is_deleted()
        assert donating._memo is None
        # the memo of `plain` knows only live objects with live buffers
        for entry in plain._known.table.values():
            obj = entry[0]()
            if obj is not None:
                assert not any(a.is_deleted() for a in entry[1])
        model, opt_state, loss = plain(model, opt_state, x, y)
        assert np.isfinite(np.asarray(loss))
        # a donated model fails as it would when flattened, never with stale leaves
        old = model
        model, opt_state, _ = donating(model, opt_state, x, y)
        with pytest.raises(ValueError, match="deleted"):
            plain(old, opt_state, x, y)


def test_error_if_raises_equinox_runtime_error_like_equinox():
    def check(lib):
        @lib.filter_jit
        def f(x):
            return lib.error_if(x, x < 0, "negative input")

        assert f(jnp.array(1.0)) == 1.0
        return f

    with pytest.raises(eqx_ref.EquinoxRuntimeError, match="negative input"):
        check(eqx_ref)(jnp.array(-1.0)).block_until_ready()
    with pytest.raises(eqx.EquinoxRuntimeError, match="negative input"):
        check(eqx)(jnp.array(-1.0)).block_until_ready()


def test_clear_caches_makes_a_new_wrapper_retrace():
    traces = []

    def fn(x):
        traces.append(None)
        return x * 2

    eqx.filter_jit(fn)(jnp.ones(2))
    eqx.filter_jit(fn)(jnp.ones(2))
    assert len(traces) == 1  # compiled code shared between wrappers
    eqx.clear_caches()
    eqx.filter_jit(fn)(jnp.ones(2))
    assert len(traces) == 2
