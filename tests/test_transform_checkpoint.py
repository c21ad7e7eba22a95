"""filter_checkpoint."""

import jax
import jax.numpy as jnp
import numpy as np

import typedeqx as eqx
from helpers import tree_allclose


def test_same_values_and_gradients(getkey):
    model = eqx.nn.MLP(2, 2, 4, 2, key=getkey())
    x = jax.random.normal(getkey(), (2,))

    def loss(model, x):
        return jnp.sum(model(x) ** 2)

    remat = eqx.filter_checkpoint(loss)
    np.testing.assert_allclose(remat(model, x), loss(model, x), rtol=1e-6)
    assert tree_allclose(
        eqx.filter_grad(remat)(model, x), eqx.filter_grad(loss)(model, x)
    )


def test_non_array_outputs_and_decorator_form():
    @eqx.filter_checkpoint(policy=jax.checkpoint_policies.nothing_saveable)
    def f(x, fn):
        return fn(x), fn, "tag"

    y, fn, tag = f(jnp.ones(2), jnp.sin)
    assert fn is jnp.sin and tag == "tag"
    grads = eqx.filter_grad(lambda x: jnp.sum(f(x, jnp.sin)[0]))(jnp.zeros(2))
    np.testing.assert_allclose(grads, np.ones(2))


def test_recomputes_in_the_backward_pass():
    def f(x):
        return jnp.sin(jnp.sin(x))

    jaxpr = jax.make_jaxpr(jax.grad(lambda x: eqx.filter_checkpoint(f)(x)))(1.0)
    assert "remat" in str(jaxpr) or "checkpoint" in str(jaxpr)
