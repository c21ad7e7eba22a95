"""filter_grad, filter_value_and_grad, filter_jacfwd, filter_jacrev, filter_hessian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx
from helpers import tree_allclose


def loss(model, x, y):
    return jnp.sum((jax.vmap(model)(x) - y) ** 2)


@pytest.fixture
def problem(getkey):
    model = eqx.nn.MLP(2, 2, 4, 1, key=getkey())
    x = jax.random.normal(getkey(), (5, 2))
    y = jax.random.normal(getkey(), (5, 2))
    return model, x, y


def _reference_grads(model, x, y):
    params, static = eqx.partition(model, eqx.is_inexact_array)
    return jax.grad(lambda p: loss(eqx.combine(p, static), x, y))(params)


def test_grad_matches_partitioned_jax_grad(problem):
    model, x, y = problem
    grads = eqx.filter_grad(loss)(model, x, y)
    assert tree_allclose(grads, _reference_grads(model, x, y))
    assert grads.activation is None and grads.final_activation is None
    assert grads.layers[0].weight.shape == model.layers[0].weight.shape


def test_value_and_grad(problem):
    model, x, y = problem
    value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
    np.testing.assert_allclose(value, loss(model, x, y), rtol=1e-6)
    assert tree_allclose(grads, _reference_grads(model, x, y))


def test_non_inexact_leaves_get_none():
    tree = {"w": jnp.array([1.0, 2.0]), "i": jnp.array([1, 2]), "n": 3.0, "s": "x"}
    grads = eqx.filter_grad(lambda t: jnp.sum(t["w"] ** 2) * t["n"])(tree)
    np.testing.assert_allclose(grads["w"], [6.0, 12.0])
    assert grads["i"] is None and grads["n"] is None and grads["s"] is None


def test_has_aux_and_decorator_forms(problem):
    model, x, y = problem

    @eqx.filter_grad(has_aux=True)
    def with_aux(model, x, y):
        return loss(model, x, y), "aux"

    grads, aux = with_aux(model, x, y)
    assert aux == "aux"
    assert tree_allclose(grads, _reference_grads(model, x, y))

    @eqx.filter_value_and_grad(has_aux=True)
    def value_with_aux(model, x, y):
        return loss(model, x, y), {"n": 1}

    (value, aux), grads = value_with_aux(model, x, y)
    assert aux == {"n": 1}
    assert tree_allclose(grads, _reference_grads(model, x, y))


def test_gradients_only_for_first_argument(problem):
    model, x, y = problem
    grads = eqx.filter_grad(lambda x, model: loss(model, x, y))(x, model)
    assert grads.shape == x.shape


def test_first_argument_required():
    f = eqx.filter_grad(lambda x: jnp.sum(x))
    with pytest.raises(eqx.TransformError, match="was passed by keyword"):
        f(x=jnp.ones(2))
    with pytest.raises(eqx.TransformError, match="is missing"):
        eqx.filter_value_and_grad(lambda: 0.0)()
    with pytest.raises(eqx.TransformError, match="argnums"):
        eqx.filter_grad(lambda x: x, argnums=1)
    with pytest.raises(eqx.TransformError, match="argnums"):
        eqx.filter_value_and_grad(lambda x: x, argnums=1)


def test_grad_as_method_decorator(getkey):
    class Quadratic(eqx.Module):
        scale: float

        @eqx.filter_grad
        def grad_at(self, x):
            return self.scale * jnp.sum(x**2)

    q = Quadratic(3.0)
    grads = q.grad_at(jnp.array([1.0, 2.0]))
    # the first argument is the module itself: scale is a float, so no gradient
    assert grads.scale is None


def test_grad_under_filter_jit(problem):
    model, x, y = problem
    grads = eqx.filter_jit(eqx.filter_grad(loss))(model, x, y)
    assert tree_allclose(grads, _reference_grads(model, x, y))


def test_jacobians():
    tree = {"a": jnp.array([1.0, 2.0]), "k": 2, "i": jnp.array(1)}

    def f(t, c):
        return {"out": t["a"] ** 2 * t["k"] * c}

    for jac in (eqx.filter_jacfwd(f), eqx.filter_jacrev(f)):
        j = jac(tree, 3.0)
        np.testing.assert_allclose(j["out"]["a"], np.diag([12.0, 24.0]))
        assert j["out"]["k"] is None and j["out"]["i"] is None


def test_jacobian_has_aux():
    j, aux = eqx.filter_jacrev(lambda x: (x * 2, "aux"), has_aux=True)(jnp.ones(2))
    assert aux == "aux"
    np.testing.assert_allclose(j, 2 * np.eye(2))
    j, aux = eqx.filter_jacfwd(lambda x: (x * 2, "aux"), has_aux=True)(jnp.ones(2))
    assert aux == "aux"


def test_hessian():
    tree = {"a": jnp.array([1.0, 2.0]), "s": "static"}
    h = eqx.filter_hessian(lambda t: jnp.sum(t["a"] ** 3))(tree)
    np.testing.assert_allclose(h["a"]["a"], np.diag([6.0, 12.0]))
    assert h["s"] is None
    h, aux = eqx.filter_hessian(lambda x: (jnp.sum(x**2), 1), has_aux=True)(jnp.ones(2))
    np.testing.assert_allclose(h, 2 * np.eye(2))
    assert aux == 1


def test_jacobian_needs_first_argument():
    with pytest.raises(eqx.TransformError, match="filter_jacfwd"):
        eqx.filter_jacfwd(lambda x: x)(x=jnp.ones(1))


def test_aux_that_depends_on_the_parameters_does_not_leak_tracers():
    # Regression: the auxiliary output used to travel as static data, so under
    # filter_jit an aux computed from the parameters escaped as a tracer.
    def loss(x, scale):
        y = x * scale
        return jnp.sum(y**2), {"y": y, "tag": "state", "n": 3}

    @eqx.filter_jit
    def step(x):
        return eqx.filter_value_and_grad(loss, has_aux=True)(x, 2.0)

    (value, aux), grads = step(jnp.arange(3.0))
    np.testing.assert_allclose(aux["y"], 2.0 * np.arange(3.0))
    assert aux["tag"] == "state" and aux["n"] == 3
    np.testing.assert_allclose(grads, 8.0 * np.arange(3.0))
    grads2, aux2 = eqx.filter_jit(eqx.filter_grad(loss, has_aux=True))(jnp.ones(2), 3.0)
    np.testing.assert_allclose(aux2["y"], 3.0 * np.ones(2))
    jac, aux3 = eqx.filter_jit(
        eqx.filter_jacfwd(lambda x: (x * 2, x + 1), has_aux=True)
    )(jnp.ones(2))
    np.testing.assert_allclose(aux3, 2 * np.ones(2))
