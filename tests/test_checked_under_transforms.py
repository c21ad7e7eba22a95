"""Shape contracts under transformations. They are checked on tracers at trace time
(per-example shapes under vmap), so a shape mistake inside a checked module raises
the same `ShapeError` (path, parameter, expected, got, bindings) under every
transformation that runs user code as it does eagerly, not a JAX error; retraces
re-check, cache hits do not, and nothing is added to the compiled computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx
from helpers import ones

CALLS: list[None] = []


@eqx.checked
class Affine(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        CALLS.append(None)
        return self.weight @ x + self.bias


@eqx.checked
class Net(eqx.Module):
    first: Affine
    second: Affine

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.second(jax.nn.relu(self.first(x)))


def affine(key, n_in, n_out):
    return Affine(jax.random.normal(key, (n_out, n_in)), jnp.zeros(n_out))


@pytest.fixture
def broken(getkey):
    """A net whose second layer expects 5 features but gets 3."""
    return Net(affine(getkey(), 4, 3), affine(getkey(), 5, 2))


@pytest.fixture
def good(getkey):
    return Net(affine(getkey(), 4, 3), affine(getkey(), 3, 2))


def fields(error):
    return (error.path, error.parameter, error.expected, error.got, error.bindings)


@pytest.fixture
def eager_error(broken):
    with pytest.raises(eqx.ShapeError) as info:
        broken(jnp.ones(4))
    assert fields(info.value)[:2] == ("Net.second", "x")
    return fields(info.value)


def _sum(net, x):
    return jnp.sum(net(x))


def _sum_x_first(x, net):
    return jnp.sum(net(x))


def _scan(net, x):
    def body(carry, _):
        return carry, net(carry)

    return jax.lax.scan(body, x, None, length=2)[1][0]


def _callback_runner(net, x):
    return eqx.filter_pure_callback(
        lambda n, a: n(a),
        net,
        x,
        result_shape_dtypes=jax.ShapeDtypeStruct((2,), jnp.float32),
    )


def _custom_jvp(net, x):
    @eqx.filter_custom_jvp
    def f(net, x):
        return net(x)

    @f.def_jvp
    def f_jvp(primals, tangents):
        return f(*primals), jnp.zeros(2)

    return f(net, x)


def _custom_vjp(net, x):
    @eqx.filter_custom_vjp
    def f(net, x):
        return net(x)

    @f.def_fwd
    def f_fwd(perturbed, net, x):
        return f(net, x), None

    @f.def_bwd
    def f_bwd(residuals, grad_out, perturbed, net, x):
        return jax.tree_util.tree_map(jnp.zeros_like, net)

    return f(net, x)


N = jax.local_device_count()

# name -> (how to run `broken` on a good input under the transformation)
RUNNERS = {
    "filter_jit": lambda net: eqx.filter_jit(lambda n, x: n(x))(net, jnp.ones(4)),
    "filter_jit bound method": lambda net: eqx.filter_jit(net.__call__)(jnp.ones(4)),
    "filter_grad": lambda net: eqx.filter_grad(_sum)(net, jnp.ones(4)),
    "filter_value_and_grad": lambda net: eqx.filter_value_and_grad(_sum)(
        net, jnp.ones(4)
    ),
    "filter_jacfwd": lambda net: eqx.filter_jacfwd(_sum_x_first)(jnp.ones(4), net),
    "filter_jacrev": lambda net: eqx.filter_jacrev(_sum_x_first)(jnp.ones(4), net),
    "filter_hessian": lambda net: eqx.filter_hessian(_sum_x_first)(jnp.ones(4), net),
    "filter_vmap": lambda net: eqx.filter_vmap(net)(jnp.ones((3, 4))),
    "filter_vmap ensemble": lambda net: eqx.filter_vmap(lambda n, x: n(x))(
        jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), net), jnp.ones((2, 4))
    ),
    "filter_pmap": lambda net: eqx.filter_pmap(net)(jnp.ones((N, 4))),
    "filter_eval_shape": lambda net: eqx.filter_eval_shape(
        net, jax.ShapeDtypeStruct((4,), jnp.float32)
    ),
    "filter_checkpoint": lambda net: eqx.filter_checkpoint(net)(jnp.ones(4)),
    "filter_custom_jvp": lambda net: _custom_jvp(net, jnp.ones(4)),
    "filter_custom_vjp": lambda net: _custom_vjp(net, jnp.ones(4)),
    "filter_closure_convert": lambda net: eqx.filter_closure_convert(net, jnp.ones(4)),
    "filter_make_jaxpr": lambda net: eqx.filter_make_jaxpr(net)(jnp.ones(4)),
    "filter_pure_callback": lambda net: _callback_runner(net, jnp.ones(4)),
    "filter_pure_callback under filter_jit": lambda net: eqx.filter_jit(
        _callback_runner
    )(net, jnp.ones(4)),
    "jax.jit": lambda net: jax.jit(lambda n, x: n(x))(net, jnp.ones(4)),
    "jax.vmap": lambda net: jax.vmap(net)(jnp.ones((3, 4))),
    "jax.grad": lambda net: jax.grad(_sum)(net, jnp.ones(4)),
    "lax.scan": lambda net: _scan(net, jnp.ones(4)),
}


@pytest.mark.parametrize("name", list(RUNNERS))
def test_same_shape_error_as_eager(name, broken, eager_error):
    with pytest.raises(eqx.ShapeError) as info:
        RUNNERS[name](broken)
    assert fields(info.value) == eager_error


@pytest.mark.parametrize("name", list(RUNNERS))
def test_correct_model_runs(name, good):
    RUNNERS[name](good)


def test_retrace_rechecks_cache_hit_does_not(good):
    f = eqx.filter_jit(lambda net, x: net(x))
    CALLS.clear()
    f(good, jnp.ones(4))
    assert len(CALLS) == 2  # both layers ran (and were checked) while tracing
    f(good, jnp.ones(4) * 2)
    f(good, jnp.ones(4) * 3)
    assert len(CALLS) == 2  # cache hits: nothing runs, nothing is checked
    with pytest.raises(eqx.ShapeError) as info:
        f(good, jnp.ones(5))  # new shape: retrace, and the check catches it
    error = info.value
    assert (error.path, error.parameter, error.got) == ("Net.first", "x", "f32[5]")


def test_eval_shape_is_a_dry_run(good, getkey):
    out = eqx.filter_eval_shape(good, jax.ShapeDtypeStruct((4,), jnp.float32))
    assert out == jax.ShapeDtypeStruct((2,), jnp.float32)
    with pytest.raises(eqx.ShapeError, match="argument x is f32\\[6\\]"):
        eqx.filter_eval_shape(good, jax.ShapeDtypeStruct((6,), jnp.float32))
    # constructing: a field that breaks its contract is caught without arithmetic
    with pytest.raises(eqx.ShapeError) as info:
        eqx.filter_eval_shape(
            Affine,
            jax.ShapeDtypeStruct((3, 4), jnp.float32),
            jax.ShapeDtypeStruct((5,), jnp.float32),
        )
    assert info.value.parameter == "bias"


def test_values_match_eager(good):
    x = jnp.arange(4.0)
    expected = good(x)
    np.testing.assert_allclose(eqx.filter_jit(good)(x), expected, rtol=1e-6)
    np.testing.assert_allclose(eqx.filter_vmap(good)(x[None])[0], expected, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(lambda n, x: n(x))(good, x), expected, rtol=1e-6)


# Function transformations for a model called as `f(model, x)`.
def _vmapped(f):
    # a one-example batch: the checks see per-example shapes
    return lambda model, x: jax.vmap(f, in_axes=(None, 0))(model, x[None])[0]


def _grad(f):
    def value(model, x):
        jax.grad(lambda m, a: jnp.sum(f(m, a)))(model, x)
        return f(model, x)

    return value


def _scanned(f):
    return lambda model, x: jax.lax.scan(
        lambda carry, _: (carry, f(model, carry)), x, None, length=2
    )[1][0]


@pytest.fixture(
    params=[lambda f: f, jax.jit, eqx.filter_jit, _vmapped, _grad, _scanned],
    ids=["eager", "jit", "filter_jit", "vmap", "grad", "scan"],
)
def transform(request):
    return request.param


def test_wrong_return_raises(transform):
    @eqx.checked
    class Bad(eqx.Module):
        w: Float[Array, " n"]

        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            return jnp.concatenate([x, self.w])

    with pytest.raises(eqx.ShapeError, match="return value is f32\\[6\\]"):
        transform(lambda m, x: m(x))(Bad(ones(3)), ones(3))


def test_vmap_sees_per_example_shapes(good):
    assert jax.vmap(good)(ones(8, 4)).shape == (8, 2)
    with pytest.raises(eqx.ShapeError) as info:
        jax.vmap(good)(ones(8, 5))
    assert info.value.got == "f32[5]"


def test_filter_vmap_over_an_ensemble(getkey):
    def make(k):
        return affine(k, 3, 4)

    ensemble = eqx.filter_vmap(make)(jax.random.split(getkey(), 6))
    out = eqx.filter_vmap(lambda m: m(ones(3)))(ensemble)
    assert out.shape == (6, 4)
    with pytest.raises(eqx.ShapeError, match="looks batched"):
        ensemble(ones(3))


def test_compiled_computation_is_the_same_as_unchecked(good):
    unchecked = Affine.__call__.__wrapped__
    layer = good.first
    checked_jaxpr = jax.make_jaxpr(lambda m, x: m(x))(layer, ones(4))
    plain_jaxpr = jax.make_jaxpr(lambda m, x: unchecked(m, x))(layer, ones(4))
    assert str(checked_jaxpr) == str(plain_jaxpr)


def test_checks_run_at_trace_time_only():
    traces = []

    @eqx.checked
    def f(x: Float[Array, " n"]) -> Float[Array, " n"]:
        traces.append(1)
        return x * 2

    jitted = jax.jit(f)
    jitted(ones(3))
    jitted(ones(3))
    assert len(traces) == 1  # the second call runs the compiled code, unchecked

    @eqx.checked
    def g(x: Float[Array, " n"], y: Float[Array, " n"]):
        return x + y

    jitted = jax.jit(g)
    jitted(ones(3), ones(3))
    with pytest.raises(eqx.ShapeError, match="argument y is f32\\[2\\]"):
        jitted(ones(3), ones(2))  # new shapes retrace, and tracing checks
