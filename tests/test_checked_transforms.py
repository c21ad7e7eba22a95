"""Contracts under transformations: checked on tracers at trace time, per-example
shapes under vmap, nothing added to the compiled computation."""

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Float

import typedeqx
from helpers import ones
from typedeqx import Module, ShapeError, checked


@checked
class Linear(Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]

    def __call__(
        self, x: Float[Array, " in_features"]
    ) -> Float[Array, " out_features"]:
        return self.weight @ x + self.bias


def make(n_in=3, n_out=4, key=None):
    key = jr.PRNGKey(0) if key is None else key
    return Linear(jr.normal(key, (n_out, n_in)), jnp.zeros(n_out))


def _eager(f):
    return f


def _jit(f):
    return jax.jit(f)


def _filter_jit(f):
    return typedeqx.filter_jit(f)


def _vmapped(f):
    # one-example batch: the checks see per-example shapes
    def batched(model, x):
        return jax.vmap(f, in_axes=(None, 0))(model, x[None])[0]

    return batched


def _grad(f):
    def value(model, x):
        jax.grad(lambda m, a: jnp.sum(f(m, a)))(model, x)
        return f(model, x)

    return value


def _scan(f):
    def scanned(model, x):
        def body(carry, _):
            return carry, f(model, carry)

        return jax.lax.scan(body, x, None, length=2)[1][0]

    return scanned


@pytest.fixture(
    params=[_eager, _jit, _filter_jit, _vmapped, _grad, _scan],
    ids=["eager", "jit", "filter_jit", "vmap", "grad", "scan"],
)
def transform(request):
    return request.param


def call(model, x):
    return model(x)


def test_correct_call_passes(transform):
    assert transform(call)(make(), ones(3)).shape == (4,)


def test_wrong_call_raises_with_the_same_diagnosis(transform):
    with pytest.raises(ShapeError) as info:
        transform(call)(make(), ones(5))
    e = info.value
    assert (e.path, e.parameter, e.got) == ("Linear", "x", "f32[5]")
    assert e.bindings == {"out_features": 4, "in_features": 3}


def test_wrong_return_raises(transform):
    @checked
    class Bad(Module):
        w: Float[Array, " n"]

        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            return jnp.concatenate([x, self.w])

    with pytest.raises(ShapeError, match="return value is f32\\[6\\]"):
        transform(call)(Bad(ones(3)), ones(3))


def test_vmap_sees_per_example_shapes():
    model = make()
    assert jax.vmap(model)(ones(8, 3)).shape == (8, 4)
    with pytest.raises(ShapeError) as info:
        jax.vmap(model)(ones(8, 5))
    assert info.value.got == "f32[5]"


def test_filter_vmap_over_an_ensemble(getkey):
    ensemble = typedeqx.filter_vmap(lambda k: make(key=k))(jr.split(getkey(), 6))
    out = typedeqx.filter_vmap(lambda m: m(ones(3)))(ensemble)
    assert out.shape == (6, 4)
    with pytest.raises(ShapeError, match="looks batched"):
        ensemble(ones(3))


def test_grad_checks_tangent_free_values():
    model = make()
    grads = typedeqx.filter_grad(lambda m, x: jnp.sum(m(x)))(model, ones(3))
    assert grads.weight.shape == (4, 3)
    with pytest.raises(ShapeError):
        typedeqx.filter_grad(lambda m, x: jnp.sum(m(x)))(model, ones(2))


def test_compiled_computation_is_the_same_as_unchecked():
    model = make()
    unchecked = Linear.__call__.__wrapped__
    checked_jaxpr = jax.make_jaxpr(lambda m, x: m(x))(model, ones(3))
    plain_jaxpr = jax.make_jaxpr(lambda m, x: unchecked(m, x))(model, ones(3))
    assert str(checked_jaxpr) == str(plain_jaxpr)


def test_checks_run_at_trace_time_only():
    traces = []

    @checked
    def f(x: Float[Array, " n"]) -> Float[Array, " n"]:
        traces.append(1)
        return x * 2

    jitted = jax.jit(f)
    jitted(ones(3))
    jitted(ones(3))
    assert len(traces) == 1  # the second call runs the compiled code, unchecked

    @checked
    def g(x: Float[Array, " n"], y: Float[Array, " n"]):
        return x + y

    jitted = jax.jit(g)
    jitted(ones(3), ones(3))
    with pytest.raises(ShapeError, match="argument y is f32\\[2\\]"):
        jitted(ones(3), ones(2))  # new shapes retrace, and tracing checks
