"""filter_eval_shape."""

import jax
import jax.numpy as jnp

import typedeqx as eqx


def test_builds_a_model_without_arithmetic(getkey):
    model = eqx.filter_eval_shape(eqx.nn.MLP, 2, 3, 8, 2, key=getkey())
    assert model.layers[0].weight == jax.ShapeDtypeStruct((8, 2), jnp.float32)
    assert model.activation is jax.nn.relu


def test_structs_and_arrays_as_inputs(getkey):
    model = eqx.nn.MLP(2, 3, 8, 1, key=getkey())
    out = eqx.filter_eval_shape(model, jax.ShapeDtypeStruct((2,), jnp.float32))
    assert out == jax.ShapeDtypeStruct((3,), jnp.float32)
    out = eqx.filter_eval_shape(lambda x, n, s: (x[:n], s), jnp.ones(5), 2, "s")
    assert out == (jax.ShapeDtypeStruct((2,), jnp.float32), "s")


def test_does_not_compute():
    calls = []

    def f(x):
        calls.append(type(x))
        return x @ x.T

    out = eqx.filter_eval_shape(f, jax.ShapeDtypeStruct((3, 4), jnp.float32))
    assert out.shape == (3, 3)
    assert issubclass(calls[0], jax.core.Tracer)
