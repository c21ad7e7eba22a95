"""filter_vmap and if_array."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


def test_if_array():
    assert eqx.if_array(1)(jnp.zeros((2, 3))) == 1
    assert eqx.if_array(0)(np.zeros(2)) == 0
    assert eqx.if_array(1)(jax.nn.relu) is None
    assert eqx.if_array(0)(3.0) is None


def test_default_maps_arrays_broadcasts_the_rest():
    @eqx.filter_vmap
    def f(x, y, fn, n):
        return fn(x + y) * n

    out = f(jnp.arange(3.0), jnp.ones(3), jnp.negative, 2.0)
    np.testing.assert_allclose(out, -2 * (np.arange(3.0) + 1))


def test_in_axes_forms():
    x = jnp.arange(6.0).reshape(2, 3)
    y = jnp.ones(3)
    # ints and None, as a tuple prefix
    out = eqx.filter_vmap(lambda a, b: a + b, in_axes=(1, None))(x, jnp.ones(2))
    assert out.shape == (3, 2)
    # a bare int applies to every argument
    assert eqx.filter_vmap(lambda a: a, in_axes=1)(x).shape == (3, 2)
    # a list works like a tuple
    out = eqx.filter_vmap(lambda a, b: a + b, in_axes=[0, None])(x, y)
    assert out.shape == (2, 3)
    # a predicate
    out = eqx.filter_vmap(lambda a: a, in_axes=lambda leaf: 1)(x)
    assert out.shape == (3, 2)
    # a PyTree prefix reaching into an argument
    tree = {"mapped": x, "shared": y}
    out = eqx.filter_vmap(
        lambda t: t["mapped"] + t["shared"], in_axes=({"mapped": 0, "shared": None},)
    )(tree)
    assert out.shape == (2, 3)
    # a dict naming parameters; the others default to if_array(0)
    out = eqx.filter_vmap(lambda a, b: a + b, in_axes={"b": None})(x, y)
    assert out.shape == (2, 3)


def test_out_axes_forms():
    x = jnp.arange(6.0).reshape(2, 3)
    assert eqx.filter_vmap(lambda a: a, out_axes=1)(x).shape == (3, 2)
    assert eqx.filter_vmap(lambda a: a, out_axes=-1)(x).shape == (3, 2)
    a, b = eqx.filter_vmap(lambda a: (a, a.sum()), out_axes=(eqx.if_array(1), 0))(x)
    assert a.shape == (3, 2) and b.shape == (2,)
    # an unmapped output
    out, const = eqx.filter_vmap(
        lambda a, c: (a, c), in_axes=(0, None), out_axes=(0, None)
    )(x, jnp.ones(4))
    assert const.shape == (4,)


def test_non_array_outputs_pass_through():
    out, fn, label = eqx.filter_vmap(lambda a: (a * 2, jax.nn.relu, "label"))(
        jnp.ones(3)
    )
    assert fn is jax.nn.relu and label == "label" and out.shape == (3,)


def test_axis_name_and_axis_size():
    out = eqx.filter_vmap(lambda a: a - jax.lax.pmean(a, "batch"), axis_name="batch")(
        jnp.arange(4.0)
    )
    np.testing.assert_allclose(out, np.arange(4.0) - 1.5)
    out = eqx.filter_vmap(lambda: jnp.ones(2), axis_size=3)()
    assert out.shape == (3, 2)
    out = eqx.filter_vmap(lambda c: c * 2, in_axes=None, axis_size=3)(jnp.ones(2))
    assert out.shape == (3, 2)


def test_nothing_mapped_without_axis_size():
    assert eqx.filter_vmap(lambda n: n + 1)(3) == 4
    with pytest.raises(eqx.TransformError, match="nothing was mapped"):
        eqx.filter_vmap(lambda n: jnp.ones(2) * n)(3)


def test_errors():
    with pytest.raises(
        eqx.TransformError, match=r"args\[1\].*only arrays can be mapped"
    ):
        eqx.filter_vmap(lambda a, f: a, in_axes=(0, 0))(jnp.ones(2), jax.nn.relu)
    with pytest.raises(eqx.TransformError, match="output leaf at .*only arrays"):
        eqx.filter_vmap(lambda a: (a, "s"), out_axes=0)(jnp.ones(2))
    with pytest.raises(eqx.TransformError, match="leaves of in_axes must be"):
        eqx.filter_vmap(lambda a: a, in_axes=("zero",))(jnp.ones(2))
    with pytest.raises(eqx.TransformError, match="must return an int or None"):
        eqx.filter_vmap(lambda a: a, in_axes=lambda leaf: "zero")(jnp.ones(2))
    with pytest.raises(eqx.TransformError, match="prefix of the positional arguments"):
        eqx.filter_vmap(lambda a: a, in_axes=(0, 0))(jnp.ones(2))
    with pytest.raises(eqx.TransformError, match=r"not among the positional arguments"):
        eqx.filter_vmap(lambda a: a, in_axes={"b": 0})(jnp.ones(2))
    with pytest.raises(eqx.TransformError, match="positional arguments only"):
        eqx.filter_vmap(lambda a: a)(a=jnp.ones(2))


def test_as_method_decorator(getkey):
    class Scale(eqx.Module):
        factor: jax.Array

        @eqx.filter_vmap(in_axes=(None, 0))
        def apply(self, x):
            return self.factor * x

    s = Scale(jnp.array(2.0))
    np.testing.assert_allclose(s.apply(jnp.arange(3.0)), [0.0, 2.0, 4.0])


def test_under_jit_and_grad(getkey):
    model = eqx.nn.MLP(2, 2, 4, 1, key=getkey())
    x = jax.random.normal(getkey(), (5, 2))

    @eqx.filter_jit
    @eqx.filter_grad
    def loss(model, x):
        return jnp.sum(eqx.filter_vmap(model)(x))

    grads = loss(model, x)
    assert grads.layers[0].weight.shape == model.layers[0].weight.shape
