"""Value checks do not change what is computed: the guards pass every array
through with its own batching, so gradients under `vmap` are the same with value
checks on and off (an unbatched argument's gradient is summed over the batch
once, not once per example)."""

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx


@eqx.checked
def scale(w: Float[Array, " n"], x: Float[Array, " n"]) -> Float[Array, " n"]:
    return w * x


def _loss(w, xs):
    return jnp.sum(jax.vmap(scale, in_axes=(None, 0))(w, xs) ** 2)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_unbatched_argument_gradient_under_vmap(jit):
    w = jnp.arange(1.0, 5.0)
    xs = jax.random.normal(jax.random.PRNGKey(1), (3, 4))
    grads = {}
    for values in (False, True):
        grad = jax.grad(lambda w, xs: _loss(w, xs))  # a fresh function: no cache
        with eqx.checks(values=values):
            grads[values] = (jax.jit(grad) if jit else grad)(w, xs)
    expected = jnp.sum(2 * w[None] * xs**2, axis=0)
    assert jnp.allclose(grads[False], expected)
    assert jnp.array_equal(grads[True], grads[False])


def test_attention_weight_gradients_under_vmap():
    mha = eqx.nn.MultiheadAttention(2, 8, key=jax.random.PRNGKey(0))
    xs = jax.random.normal(jax.random.PRNGKey(1), (3, 5, 8))
    grads = {}
    for values in (False, True):

        def loss(m, xs):
            return jnp.mean(jax.vmap(lambda x: m(x, x, x))(xs) ** 2)

        with eqx.checks(values=values):
            grads[values] = eqx.filter_jit(eqx.filter_grad(loss))(mha, xs)
    off, on = (
        jax.tree_util.tree_leaves(grads[False]),
        jax.tree_util.tree_leaves(grads[True]),
    )
    assert all(jnp.allclose(a, b, rtol=1e-6, atol=0) for a, b in zip(off, on))
