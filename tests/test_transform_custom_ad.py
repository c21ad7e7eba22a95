"""filter_custom_jvp and filter_custom_vjp."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


@eqx.filter_custom_jvp
def call(x, y, *, fn):
    return fn(x, y)


@call.def_jvp
def call_jvp(primals, tangents, *, fn):
    x, y = primals
    tx, ty = tangents
    tangent = 2 * tx if ty is None else 2 * tx + 3 * ty
    return call(x, y, fn=fn), tangent


def add(a, b):
    return a + b


def test_custom_jvp_rule_is_used_with_none_tangents():
    x, y = jnp.array(2.0), jnp.array(5.0)
    assert call(x, y, fn=add) == 7.0
    assert eqx.filter_grad(lambda x: call(x, y, fn=add))(x) == 2.0  # ty is None
    _, t = jax.jvp(lambda x, y: call(x, y, fn=add), (x, y), (1.0, 1.0))
    assert t == 5.0
    # an integer argument has no tangent
    assert eqx.filter_grad(lambda x: call(x, 3, fn=add))(x) == 2.0


def test_custom_jvp_zero_tangent_output_and_errors():
    @eqx.filter_custom_jvp
    def f(x):
        return x * 2

    with pytest.raises(eqx.TransformError, match="no derivative rule"):
        f(jnp.ones(1))

    @f.def_jvp
    def f_jvp(primals, tangents):
        (x,) = primals
        return f(x), None  # None means zero

    assert eqx.filter_grad(lambda x: f(x).sum())(jnp.ones(2)).tolist() == [0.0, 0.0]

    @eqx.filter_custom_jvp
    def g(x, *, k):
        return x * k

    @g.def_jvp
    def g_jvp(primals, tangents, *, k):
        return g(*primals, k=k), tangents[0] * k

    with pytest.raises(eqx.TransformError, match="keyword arguments are not"):
        jax.grad(lambda k: g(jnp.array(1.0), k=k))(jnp.array(2.0))


@eqx.filter_custom_vjp
def scale(vjp_arg, factor, name):
    w, n = vjp_arg
    return {"out": w * factor * n, "name": name}


@scale.def_fwd
def scale_fwd(perturbed, vjp_arg, factor, name):
    assert perturbed == (True, False)
    return scale(vjp_arg, factor, name), {"factor": factor, "kind": "res"}


@scale.def_bwd
def scale_bwd(residuals, grad_obj, perturbed, vjp_arg, factor, name):
    assert residuals["kind"] == "res" and grad_obj["name"] is None
    _, n = vjp_arg
    return (grad_obj["out"] * residuals["factor"] * n * 10.0, None)


def test_custom_vjp_rule_is_used():
    vjp_arg = (jnp.array([1.0, 2.0]), 3)
    out = scale(vjp_arg, 2.0, "nm")
    assert out["name"] == "nm"
    np.testing.assert_allclose(out["out"], [6.0, 12.0])
    grads = eqx.filter_grad(lambda v: jnp.sum(scale(v, 2.0, "nm")["out"]))(vjp_arg)
    np.testing.assert_allclose(grads[0], [60.0, 60.0])
    assert grads[1] is None


def test_custom_vjp_errors():
    @eqx.filter_custom_vjp
    def f(x, y):
        return x * y

    with pytest.raises(eqx.TransformError, match="needs both rules"):
        f(jnp.ones(1), jnp.ones(1))

    @f.def_fwd
    def f_fwd(perturbed, x, y):
        return f(x, y), None

    @f.def_bwd
    def f_bwd(residuals, grad_obj, perturbed, x, y):
        return grad_obj * y, "extra"  # wrong structure

    with pytest.raises(eqx.TransformError, match="only, but an array in the other"):
        jax.grad(lambda y: f(jnp.array(1.0), y))(jnp.array(2.0))
    with pytest.raises(eqx.TransformError, match="structured like the first argument"):
        jax.grad(lambda x: f(x, jnp.array(2.0)))(jnp.array(1.0))


def _nan_rule(lib):
    @lib.filter_custom_vjp
    def backward_nan(x):
        return x

    @backward_nan.def_fwd
    def backward_nan_fwd(perturbed, x):
        del perturbed
        return backward_nan(x), None

    @backward_nan.def_bwd
    def backward_nan_bwd(residual, grad_x, perturbed, x):
        del residual, grad_x, perturbed, x
        return jnp.nan  # a Python float, where a scalar array's gradient belongs

    return backward_nan


@pytest.mark.parametrize("wrap", ["eager", "filter_jit", "jax.jit"])
def test_a_python_number_is_a_scalar_arrays_gradient_as_in_equinox(wrap):
    eqx_ref = pytest.importorskip("equinox")
    grads = []
    for lib in (eqx, eqx_ref):
        grad = jax.grad(_nan_rule(lib))
        grad = {
            "eager": grad,
            "filter_jit": lib.filter_jit(grad),
            "jax.jit": jax.jit(grad),
        }[wrap]
        grads.append(grad(jnp.array(1.0)))
    ours, theirs = grads
    assert np.isnan(ours) and np.isnan(theirs)
    # Equinox hands back the bare Python float eagerly; ours is an array of x's dtype.
    assert (
        isinstance(ours, jax.Array) and ours.dtype == jnp.float32 and ours.shape == ()
    )


def test_a_python_number_for_a_non_scalar_array_is_refused():
    eqx_ref = pytest.importorskip("equinox")
    x = jnp.ones(3)
    with pytest.raises(ValueError):  # JAX's shape error, through Equinox
        jax.grad(lambda x: jnp.sum(_nan_rule(eqx_ref)(x)))(x)
    message = (
        "filter_custom_vjp(_nan_rule.<locals>.backward_nan): the backward rule must "
        "return a tree "
        "structured like the first argument, with a gradient for each of its arrays; "
        "got float nan where the gradient of an array of shape (3,) and dtype float32 "
        "belongs. Return an array of the same shape, or None."
    )
    with pytest.raises(eqx.TransformError, match=re.escape(message)):
        jax.grad(lambda x: jnp.sum(_nan_rule(eqx)(x)))(x)
