"""`filter_jit` and `filter_pmap` keep one trace per setting of `typedeqx.checks`.

Checks run while tracing, so a step compiled with them off has none. A user whose
training diverged wraps the next step in `checks(values=True)` to find where: the
step must be traced again, with the checks, whether the call takes the memo's fast
path (the model the step returned, or the same model again) or flattens (a new
model). Back outside, the first trace is used again.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx

DIVERGED = (
    "A NaN or infinity first appeared in the output of `MLP.layers[0]` (forward "
    "pass): 1 of 8 elements are NaN or infinite (f32[8]). Its array arguments were "
    "finite, so it arose in `MLP.layers[0]`'s own computation or parameters.\n"
    "Batch index (0,) had error (vmap axes outermost first)."
)


def _diverging_step(traces):
    @eqx.filter_jit
    def step(model, x, y):
        traces.append(None)

        def loss(m):
            return jnp.mean((jax.vmap(m)(x) - y) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates = jax.tree_util.tree_map(lambda g: -100.0 * g, grads)  # far too big
        return eqx.apply_updates(model, updates), value

    return step


def _data():
    x = jr.normal(jr.PRNGKey(1), (16, 2))
    return x, x[:, :1] * x[:, 1:]


def _diverged(step):
    model = eqx.nn.MLP(2, 1, 8, 2, key=jr.PRNGKey(0))
    x, y = _data()
    for _ in range(30):  # checks off: the loss becomes NaN without a word
        model, value = step(model, x, y)
    assert np.isnan(value)
    return model


def test_a_training_step_compiled_without_value_checks_gets_them():
    traces = []
    step = _diverging_step(traces)
    model = _diverged(step)  # the model fed back: the memo's fast path
    x, y = _data()
    assert len(traces) == 1
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            step(model, x, y)
    assert str(info.value) == DIVERGED
    assert len(traces) == 2
    _, value = step(model, x, y)  # off again: the first trace, no error
    assert np.isnan(value) and len(traces) == 2
    with eqx.checks(values=True):  # and the checked one, kept too
        with pytest.raises(eqx.ValueCheckError):
            step(model, x, y)
    assert len(traces) == 2  # no third trace


def test_a_new_model_gets_the_checks_too():
    traces = []
    step = _diverging_step(traces)
    model = _diverged(step)
    copy = jax.tree_util.tree_map(lambda a: a, model)  # flattened, not memoised
    x, y = _data()
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            step(copy, x, y)
    assert str(info.value) == DIVERGED


@eqx.checked
class Offset(eqx.Module):
    bias: Float[Array, " n"]

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        return x + jnp.sum(self.bias)


class Net(eqx.Module):
    offset: Offset

    def __call__(self, x):
        return self.offset(x)


WRONG_SIZE = (
    "Net.offset (Offset.__call__): argument x is f32[1], expected "
    'Float[Array, "n"] with n=3 (bound by field bias f32[3])'
)


def test_an_evaluation_compiled_without_shape_checks_gets_them():
    net = Net(Offset(jnp.zeros(3)))
    evaluate = eqx.filter_jit(lambda m, x: m(x))
    x = jnp.ones(1)  # wrong size, but XLA broadcasts it
    with eqx.checks(False):
        for _ in range(3):  # the same model again: the memo's fast path
            np.testing.assert_array_equal(evaluate(net, x), [1.0])
    with pytest.raises(eqx.ShapeError) as info:
        evaluate(net, x)
    assert str(info.value) == WRONG_SIZE


def test_filter_pmap_keeps_one_trace_per_setting():
    net = Net(Offset(jnp.zeros(3)))
    mapped = eqx.filter_pmap(lambda m, x: m(x), in_axes=(None, 0))
    x = jnp.ones((1, 1))  # one device; each gets f32[1]
    with eqx.checks(False):
        np.testing.assert_array_equal(mapped(net, x), [[1.0]])
    with pytest.raises(eqx.ShapeError) as info:
        mapped(net, x)
    assert str(info.value) == WRONG_SIZE
    lowered = mapped.lower(net, jnp.ones((1, 3)))
    with eqx.checks(False):  # an AOT-compiled function runs under any setting
        compiled = lowered.compile()
        np.testing.assert_array_equal(compiled(net, jnp.ones((1, 3))), [[1.0] * 3])
