"""`@checked` on methods and functions wrapped in filtered transformations.

A user writes Equinox's idiom, `@eqx.filter_jit` on a Module's `__call__`, in a
checked class. The annotations describe the method itself, so its checks go inside
the transformation: they run while tracing (once per trace, nothing in steady
state), see per-example shapes under `filter_vmap`, and check the function's own
output, not the gradient `filter_grad` returns.
"""

import jax
import jax.lax as lax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx

WRONG = (
    'Net.scale (Scale.__call__): argument x is f32[2], expected Float[Array, "n"] '
    "with n=3 (bound by field w f32[3])"
)


@eqx.checked
class Scale(eqx.Module):
    w: Float[Array, " n"]

    @eqx.filter_jit
    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        return x * self.w


class Net(eqx.Module):
    scale: Scale

    def __call__(self, x):
        return jnp.sum(self.scale(x))


def _net():
    return Net(Scale(jnp.arange(3.0)))


def test_a_jitted_method_is_checked_eagerly_and_under_transformations():
    net, bad = _net(), jnp.ones(2)
    runs = {
        "eager": lambda: net(bad),
        "filter_jit": lambda: eqx.filter_jit(lambda n, x: n(x))(net, bad),
        "vmap": lambda: jax.vmap(net)(jnp.ones((4, 2))),
        "scan": lambda: lax.scan(lambda c, x: (c + net(x), None), 0.0, bad[None])[0],
    }
    for name, run in runs.items():
        with pytest.raises(eqx.ShapeError) as info:
            run()
        assert str(info.value) == WRONG, name


def test_checks_run_while_tracing_only():
    traces = []

    @eqx.checked
    class Counted(eqx.Module):
        w: Float[Array, " n"]

        @eqx.filter_jit
        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            traces.append(None)
            return x * self.w

    model = Counted(jnp.ones(3))
    for _ in range(3):
        assert jnp.array_equal(model(jnp.ones(3)), jnp.ones(3))
    assert len(traces) == 1  # checked once, at the one trace
    with pytest.raises(eqx.ShapeError):
        model(jnp.ones(4))


def test_value_checks_reach_inside_a_jitted_method():
    @eqx.checked
    class Log(eqx.Module):
        w: Float[Array, " n"]

        @eqx.filter_jit
        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            return jnp.log(x * self.w)

    model = Log(-jnp.ones(3))
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            model(jnp.ones(3))
    assert str(info.value) == (
        "A NaN or infinity first appeared in the output of `Log` (forward pass): 3 "
        "of 3 elements are NaN or infinite (f32[3]). Its array arguments were "
        "finite, so it arose in `Log`'s own computation or parameters."
    )


def test_under_filter_vmap_the_checks_see_one_example():
    @eqx.checked
    class Row(eqx.Module):
        w: Float[Array, " n"]

        @eqx.filter_jit
        @eqx.filter_vmap(in_axes=(None, 0))
        def __call__(self, x: Float[Array, " n"]) -> Float[Array, ""]:
            return jnp.dot(x, self.w)

    model = Row(jnp.ones(3))
    assert model(jnp.ones((5, 3))).shape == (5,)
    with pytest.raises(eqx.ShapeError) as info:
        model(jnp.ones((5, 2)))
    assert str(info.value) == (
        'Row.__call__: argument x is f32[2], expected Float[Array, "n"] with n=3 '
        "(bound by field w f32[3])"
    )


def test_a_checked_gradient_checks_the_function_not_the_gradient():
    @eqx.checked
    @eqx.filter_grad
    def grad_of(w: Float[Array, " n"], x: Float[Array, " n"]) -> Float[Array, ""]:
        return jnp.sum(w * x)

    assert jnp.array_equal(grad_of(jnp.ones(3), jnp.arange(3.0)), jnp.arange(3.0))
    with pytest.raises(eqx.ShapeError) as info:
        grad_of(jnp.ones(3), jnp.ones(2))
    assert str(info.value) == (
        'grad_of: argument x is f32[2], expected Float[Array, "n"] with n=3 '
        "(bound by argument w f32[3])"
    )


def test_checking_twice_wraps_once():
    once = eqx.checked(eqx.filter_jit(lambda x: x))
    assert eqx.checked(once) is once


def test_a_checked_subclass_adopts_a_jitted_method():
    class Base(eqx.Module):
        w: jax.Array

        @eqx.filter_jit
        def __call__(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
            return x * self.w

    assert Base(jnp.ones(3))(jnp.ones(1)).shape == (3,)  # unchecked: broadcasts

    @eqx.checked
    class Checked(Base):
        pass

    with pytest.raises(eqx.ShapeError) as info:
        Checked(jnp.ones(3))(jnp.ones(1))
    assert str(info.value) == (
        'Checked.__call__: argument x is f32[1], expected Float[Array, "3"] '
        "(axis 0 has size 1, expected 3)"
    )


def test_a_hint_for_the_jitted_layer_alone_is_not_given_for_the_model():
    # Inside the trace, the fix would map over the jitted layer's inputs; named
    # from the model the user called, that hint could mislead, so it is dropped.
    with pytest.raises(eqx.ShapeError) as info:
        _net()(jnp.ones((5, 3)))
    assert str(info.value) == (
        "Net.scale (Scale.__call__): argument x is f32[5,3], expected "
        'Float[Array, "n"] with n=3 (bound by field w f32[3]) (got rank 2, '
        "expected rank 1)"
    )
    with pytest.raises(eqx.ShapeError) as info:
        Scale(jnp.arange(3.0))(jnp.ones((5, 3)))  # called directly: the hint stays
    assert str(info.value).endswith(
        "hint: x looks like a batch of 5 inputs of shape f32[3]. Map over it with "
        "jax.vmap: jax.vmap(model)(x)."
    )
