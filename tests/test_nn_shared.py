"""nn.Shared: tied nodes, a single stored copy, gradients that add up every use."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from helpers import ones

eqx_ref = pytest.importorskip("equinox")


def _pair(getkey, module=eqx.nn):
    return (
        module.Linear(3, 3, key=getkey()),
        module.Linear(3, 3, use_bias=False, key=getkey()),
    )


def _tie_weights(pair):
    return pair[1].weight


def _get_weights(pair):
    return pair[0].weight


def test_call_puts_the_tied_value_back(getkey):
    encode, decode = _pair(getkey)
    shared = eqx.nn.Shared((encode, decode), _tie_weights, _get_weights)
    tied_encode, tied_decode = shared()
    assert tied_decode.weight is tied_encode.weight
    assert np.array_equal(tied_encode.weight, encode.weight)
    # one stored copy: the tied node is gone from the leaves
    arrays = [leaf for leaf in jax.tree_util.tree_leaves(shared) if eqx.is_array(leaf)]
    assert len(arrays) == 2  # encode's weight and bias
    assert "SharedNode" in repr(shared)


def test_same_as_equinox(getkey):
    keys = iter([jr.PRNGKey(1), jr.PRNGKey(2)] * 2)
    ours = _pair(lambda: next(keys))
    theirs = _pair(lambda: next(keys), eqx_ref.nn)
    a = eqx.nn.Shared(ours, _tie_weights, _get_weights)
    b = eqx_ref.nn.Shared(theirs, _tie_weights, _get_weights)
    x = jr.normal(getkey(), (3,))

    def run(shared):
        first, second = shared()
        return second(first(x))

    assert np.array_equal(run(a), run(b))
    # same leaves: the untied arrays, the placeholder, where and get
    assert len(jax.tree_util.tree_leaves(a)) == len(jax.tree_util.tree_leaves(b)) == 5


def test_gradients_reach_the_single_copy(getkey):
    encode, decode = _pair(getkey)
    shared = eqx.nn.Shared((encode, decode), _tie_weights, _get_weights)
    x = jr.normal(getkey(), (3,))

    def loss(shared):
        first, second = shared()
        return jnp.sum(second(first(x)) ** 2)

    def untied_loss(pair):
        first, second = pair
        return jnp.sum(second(first(x)) ** 2)

    grads = eqx.filter_jit(eqx.filter_grad(loss))(shared)
    # the same values as two independent copies: the tied gradient is their sum
    untied = eqx.filter_grad(untied_loss)(shared())
    expected = untied[0].weight + untied[1].weight
    assert np.allclose(grads.pytree[0].weight, expected, rtol=1e-5, atol=1e-6)
    assert grads.pytree[1].weight is None  # no separate copy to update


def test_transforming_get(getkey):
    encode, decode = _pair(getkey)
    shared = eqx.nn.Shared(
        (encode, decode), _tie_weights, lambda p: jnp.transpose(p[0].weight)
    )
    _, tied = shared()
    assert np.array_equal(tied.weight, encode.weight.T)


def test_several_nodes(getkey):
    encode, decode = _pair(getkey)
    other = eqx.nn.Linear(3, 3, key=getkey())
    shared = eqx.nn.Shared(
        (encode, decode, other),
        lambda p: (p[1].weight, p[2].bias),
        lambda p: (p[0].weight, p[0].bias),
    )
    a, b, c = shared()
    assert b.weight is a.weight and c.bias is a.bias


@pytest.mark.parametrize(
    "get",
    [
        lambda p: p[0].bias,  # wrong shape
        lambda p: p[0].weight.astype(jnp.float16),  # wrong dtype
        lambda p: (p[0].weight, p[0].weight),  # wrong structure
    ],
)
def test_mismatch_is_a_value_error(getkey, get):
    with pytest.raises(ValueError, match=r"Shared\(pytree, where, get\)"):
        eqx.nn.Shared(_pair(getkey), _tie_weights, get)


def test_module_inside_a_model(getkey):
    class Model(eqx.Module):
        shared: eqx.nn.Shared

        def __call__(self, x):
            first, second = self.shared()
            return second(first(x))

    model = Model(eqx.nn.Shared(_pair(getkey), _tie_weights, _get_weights))
    assert eqx.filter_jit(model)(ones(3)).shape == (3,)
    with pytest.raises(eqx.ShapeError, match=r"argument x is f32\[4\]"):
        model(ones(4))
