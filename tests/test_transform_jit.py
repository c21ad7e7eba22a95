"""filter_jit: what is traced, what is static, caching, outputs, donation, methods,
and the repeated-call fast path."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx
from typedeqx._transform._memo import plan_memo


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other):
        return self is other


class Affine(eqx.Module):
    weight: jax.Array
    bias: jax.Array
    activation: object

    def __call__(self, x):
        return self.activation(self.weight @ x + self.bias)


def make_affine(getkey, n=3):
    return Affine(jax.random.normal(getkey(), (n, n)), jnp.zeros(n), jax.nn.relu)


def counting(fn):
    """`fn` plus a list that grows by one each time it is traced."""
    traces = []

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        traces.append(None)
        return fn(*args, **kwargs)

    return wrapped, traces


def test_arrays_traced_everything_else_static():
    seen = {}

    @eqx.filter_jit
    def f(x, n, flag, fn, arr_np):
        seen.update(x=x, n=n, flag=flag, fn=fn, arr_np=arr_np)
        return fn(x) * n + arr_np

    out = f(jnp.array([-1.0, 2.0]), 3.0, True, jax.nn.relu, np.ones(2, np.float32))
    assert isinstance(seen["x"], jax.core.Tracer)
    assert isinstance(seen["arr_np"], jax.core.Tracer)
    assert seen["n"] == 3.0 and type(seen["n"]) is float
    assert seen["flag"] is True
    assert seen["fn"] is jax.nn.relu
    np.testing.assert_allclose(out, [1.0, 7.0])


def test_decorator_with_and_without_arguments():
    @eqx.filter_jit
    def f(x):
        return x + 1

    @eqx.filter_jit(donate="none")
    def g(x):
        return x + 2

    assert f(jnp.array(1)) == 2
    assert g(jnp.array(1)) == 3
    assert f.__name__ == "f" and f.__wrapped__.__name__ == "f"


def test_one_compilation_per_static_part_shape_and_dtype():
    fn, traces = counting(lambda x, scale, *, mode="a": x * scale)
    f = eqx.filter_jit(fn)
    x3, x4 = jnp.ones(3), jnp.ones(4)
    f(x3, 2.0)
    f(x3 + 1, 2.0)
    assert len(traces) == 1
    f(x4, 2.0)
    assert len(traces) == 2  # new shape
    f(x3.astype(jnp.int32), 2)
    assert len(traces) == 3  # new dtype and static value
    f(x3, 3.0)
    assert len(traces) == 4  # new static value
    f(x3, scale=3.0)
    assert len(traces) == 4  # keyword binds to the same call
    f(x3, 3.0, mode="b")
    assert len(traces) == 5
    f(x4, 2.0)
    f(x3, 3.0)
    assert len(traces) == 5


def test_python_scalars_are_static_not_traced():
    fn, traces = counting(lambda x, n: x * n)
    f = eqx.filter_jit(fn)
    f(jnp.ones(2), 1)
    f(jnp.ones(2), 2)
    assert len(traces) == 2
    assert f(jnp.ones(2), 2)[0] == 2


def test_non_array_outputs_returned_as_they_are():
    obj = Unhashable()

    @eqx.filter_jit
    def f(x):
        return {"y": x * 2, "obj": obj, "fn": jax.nn.relu, "n": 3, "none": None}

    for _ in range(2):  # compile, then cache hit
        out = f(jnp.ones(2))
        assert out["obj"] is obj and out["fn"] is jax.nn.relu
        assert out["n"] == 3 and out["none"] is None
        np.testing.assert_allclose(out["y"], [2.0, 2.0])


def test_static_outputs_follow_input_shapes():
    f = eqx.filter_jit(lambda x: (x.shape, x.sum()))
    assert f(jnp.ones(3))[0] == (3,)
    assert f(jnp.ones(5))[0] == (5,)
    assert f(jnp.ones(3))[0] == (3,)


def test_output_of_only_static_leaves():
    assert eqx.filter_jit(lambda x: "done")(jnp.ones(1)) == "done"
    assert eqx.filter_jit(lambda: None)() is None


def test_bound_method_traces_module_arrays(getkey):
    model = make_affine(getkey)
    seen = []

    class Spy(eqx.Module):
        inner: Affine

        def __call__(self, x):
            seen.append(self.inner.weight)
            return self.inner(x)

    spy = Spy(model)
    f = eqx.filter_jit(spy.__call__)
    x = jnp.ones(3)
    np.testing.assert_allclose(f(x), model(x), rtol=1e-6)
    assert isinstance(seen[-1], jax.core.Tracer)


def test_decorating_a_method_in_a_class_body(getkey):
    seen = []

    class Model(eqx.Module):
        weight: jax.Array

        @eqx.filter_jit
        def __call__(self, x):
            seen.append(self.weight)
            return self.weight @ x

        @eqx.filter_jit
        def scaled(self, x, factor):
            return factor * (self.weight @ x)

    model = Model(jax.random.normal(getkey(), (2, 2)))
    x = jnp.ones(2)
    np.testing.assert_allclose(model(x), model.weight @ x, rtol=1e-6)
    np.testing.assert_allclose(model.scaled(x, 2.0), 2 * model.weight @ x, rtol=1e-6)
    assert isinstance(seen[0], jax.core.Tracer)
    # the bound method is itself a PyTree with the model's leaves
    assert jax.tree_util.tree_leaves(model.scaled) == [model.weight]


def test_decorating_a_method_of_a_plain_class():
    class Plain:
        def __init__(self, k):
            self.k = k

        def __hash__(self):
            return hash(self.k)

        def __eq__(self, other):
            return isinstance(other, Plain) and other.k == self.k

        @eqx.filter_jit
        def times(self, x):
            return self.k * x

    assert Plain(3).times(jnp.array(2.0)) == 6.0


def test_unhashable_static_leaf_names_its_path():
    f = eqx.filter_jit(lambda x, cfg: x)
    with pytest.raises(eqx.TransformError, match=r"args\[1\]\['opt'\] is a Unhashable"):
        f(jnp.ones(2), {"opt": Unhashable()})

    g = eqx.filter_jit(lambda x, *, opt: x)
    with pytest.raises(
        eqx.TransformError, match=r"must be hashable\. kwargs\['opt'\] is a Unhashable"
    ):
        g(jnp.ones(2), opt=Unhashable())


def test_invalid_arguments():
    with pytest.raises(eqx.TransformError, match="donate=.*got 'some'"):
        eqx.filter_jit(lambda x: x, donate="some")  # type: ignore[call-overload]
    with pytest.raises(eqx.TransformError, match="static_argnums"):
        eqx.filter_jit(lambda x: x, static_argnums=0)
    with pytest.raises(eqx.TransformError, match="Expected a callable"):
        eqx.filter_jit(3)  # type: ignore[call-overload]


def test_donate_all_deletes_inputs_and_silences_unusable_buffers():
    f = eqx.filter_jit(lambda x, y: (x + 1, y.sum()), donate="all")
    x, y = jnp.ones(3), jnp.ones(4)
    out = f(x, y)  # y cannot be reused for a scalar output: no warning
    np.testing.assert_allclose(out[0], 2.0)
    assert x.is_deleted()


def test_donate_all_except_first_keeps_first():
    f = eqx.filter_jit(lambda x, y: (x + 1, y * 2), donate="all-except-first")
    x, y = jnp.ones(3), jnp.ones(4)
    f(x, y)
    assert not x.is_deleted() and y.is_deleted()


def test_donate_warn_keeps_the_warning():
    f = eqx.filter_jit(lambda x: x.sum(), donate="warn")
    with pytest.warns(UserWarning, match="Some donated buffers were not usable"):
        f(jnp.ones(3))


def test_donate_none_keeps_inputs():
    f = eqx.filter_jit(lambda x: x + 1)
    x = jnp.ones(3)
    f(x)
    assert not x.is_deleted()


def test_nested_in_jax_transformations(getkey):
    model = make_affine(getkey)
    f = eqx.filter_jit(lambda m, x: m(x).sum())
    x = jnp.ones(3)
    expected = f(model, x)
    assert jax.jit(lambda x: f(model, x))(x) == expected
    batched = jax.vmap(lambda x: f(model, x))(jnp.stack([x, x]))
    np.testing.assert_allclose(batched, [expected, expected], rtol=1e-6)
    grads = eqx.filter_grad(f)(model, x)
    assert grads.weight.shape == (3, 3) and grads.activation is None


def test_disable_jit_returns_plain_outputs():
    f = eqx.filter_jit(lambda x: (x + 1, jax.nn.relu))
    with jax.disable_jit():
        y, fn = f(jnp.ones(2))
    assert fn is jax.nn.relu and not isinstance(y, jax.core.Tracer)


# --- repeated-call fast path -------------------------------------------------------


def test_same_module_new_array_values(getkey):
    model = make_affine(getkey)
    fn, traces = counting(lambda m, x: m(x))
    f = eqx.filter_jit(fn)
    for x in (jnp.ones(3), jnp.arange(3.0), -jnp.ones(3)):
        np.testing.assert_allclose(f(model, x), model(x), rtol=1e-6)
    assert len(traces) == 1
    other = make_affine(getkey)
    np.testing.assert_allclose(f(other, jnp.ones(3)), other(jnp.ones(3)), rtol=1e-6)
    assert len(traces) == 1


def test_mutated_containers_are_never_served_stale():
    f = eqx.filter_jit(lambda d, x: d["scale"] * x)
    config = {"scale": 2.0}
    assert f(config, jnp.array(1.0)) == 2.0
    config["scale"] = 5.0
    assert f(config, jnp.array(1.0)) == 5.0

    g = eqx.filter_jit(lambda xs: sum(xs))
    values = [jnp.array(1.0), jnp.array(2.0)]
    assert g(values) == 3.0
    values.append(jnp.array(4.0))
    assert g(values) == 7.0


def test_module_holding_a_list_is_flattened_every_call():
    class Holder(eqx.Module):
        items: list

    holder = Holder([jnp.array(1.0)])
    f = eqx.filter_jit(lambda h: sum(h.items))
    assert f(holder) == 1.0
    holder.items.append(jnp.array(2.0))
    assert f(holder) == 3.0


def test_static_scalar_changes_retrace():
    fn, traces = counting(lambda x, n: x * n)
    f = eqx.filter_jit(fn)
    x = jnp.ones(2)
    assert f(x, 2)[0] == 2 and f(x, 2)[0] == 2
    assert f(x, 3)[0] == 3
    assert len(traces) == 2
    assert f(x, 2.0)[0] == 2.0
    assert len(traces) == 3  # 2 == 2.0, but an int and a float are told apart


def test_array_argument_type_change_is_not_confused():
    f = eqx.filter_jit(lambda x: x * 2)
    assert f(jnp.array(1.0)) == 2.0
    assert f(np.array(2.0, np.float32)) == 4.0
    assert f(3.0) == 6.0  # a Python float is static


def test_memo_plans():
    model = Affine(jnp.ones((1, 1)), jnp.ones(1), jax.nn.relu)
    assert plan_memo((model, jnp.ones(2), 3, None)) is not None
    assert plan_memo(([1],)) is None
    assert plan_memo(({"a": jnp.ones(1)},)) is None
    # tuples cannot be weakly referenced: the memo looks into them instead
    assert plan_memo(((model, (model, None)),)) is not None
    assert plan_memo(((model, [model]),)) is None


def test_no_memo_under_transformations(getkey):
    model = make_affine(getkey)
    f = eqx.filter_jit(lambda m, x: m(x))
    jax.jit(lambda x: f(model, x))(jnp.ones(3))
    assert f._memo is None  # nothing traced is kept alive
    f(model, jnp.ones(3))
    assert f._memo is not None


class _Boom(Exception):
    pass


def _boom(x):
    raise _Boom("from the callback")


@pytest.mark.parametrize("memoised", [True, False])
def test_a_failing_check_raises_from_the_call_that_ran_it(memoised):
    # With asynchronous dispatch, a host check that fails in a result nobody reads
    # would surface at some later call, or never: a program holding one is waited
    # for, on the first call (the one that traces) and on every later call.
    model = Affine(jnp.eye(2), jnp.zeros(2), jax.nn.relu)

    @eqx.filter_jit
    def checked(model, x, *extra):
        # Enough work before the check that the call returns before it runs.
        big = jnp.full((256, 256), x[0] / 256)
        for _ in range(8):
            big = big @ big
        y = eqx.error_if(model(x) + big[0, :2] * 0, x[0] > 1, "x[0] is above one")
        return y

    extra = () if memoised else ([1],)  # a list argument is never memoised
    for _ in range(10):
        checked(model, jnp.zeros(2), *extra)
        with pytest.raises(eqx.EquinoxRuntimeError, match="x\\[0\\] is above one"):
            checked(model, jnp.array([2.0, 0.0]), *extra)
    assert _compiled_types(checked) == ["Waiting"]


def test_a_failing_pure_callback_raises_from_its_call():
    @eqx.filter_jit
    def calls_back(x):
        return eqx.filter_pure_callback(_boom, x, result_shape_dtypes=x)

    for _ in range(5):
        with pytest.raises(_Boom):
            calls_back(jnp.ones(2))


def test_a_program_without_host_checks_is_not_waited_for():
    @eqx.filter_jit
    def plain(x):
        return x + 1

    plain(jnp.ones(2))
    assert _compiled_types(plain) == ["PjitFunction"]


def _compiled_types(wrapper):
    layouts = wrapper._shared.layouts.values()
    return [type(c).__name__ for layout in layouts for c in layout.compiled.values()]


def _scan_body(carry, x):
    return eqx.error_if(carry + x, x > 1, "a step is above one"), None


@pytest.mark.parametrize("first", ["good", "bad"])
def test_every_wrapper_of_a_checked_program_waits(first):
    # The check sits in a scan body that JAX traces once and then reuses from its
    # cache, for a second wrapper too: the program is looked at, not the tracing.
    def total(xs):
        return jax.lax.scan(_scan_body, jnp.zeros(()), xs)[0]

    good, bad = jnp.zeros(3), jnp.array([0.0, 2.0, 0.0])
    for wrapper in (eqx.filter_jit(total), eqx.filter_jit(lambda xs: total(xs))):
        if first == "bad":
            with pytest.raises(eqx.EquinoxRuntimeError, match="a step is above one"):
                wrapper(bad)
        wrapper(good)
        with pytest.raises(eqx.EquinoxRuntimeError, match="a step is above one"):
            wrapper(bad)
        assert _compiled_types(wrapper) == ["Waiting"]


def test_an_error_while_tracing_is_raised_once():
    # Tracing failed, so no program was made: nothing else may be raised on top.
    def fails(x):
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input") as info:
        eqx.filter_jit(fails)(jnp.ones(2))
    assert info.value.__context__ is None
