"""Module paths of a `ShapeError` through unchecked parents: found on the error
path by walking the call stack, eagerly and under `filter_jit` and `filter_vmap`."""

import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx
from typedeqx import Module, ShapeError, nn


class Block(Module):  # unchecked
    mlp: nn.MLP

    def __call__(self, x):
        return self.mlp(x)


class Net(Module):  # unchecked
    blocks: list

    def __call__(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def _net(key):
    k1, k2 = jr.split(key)
    return Net([Block(nn.MLP(3, 3, 4, 1, key=k1)), Block(nn.MLP(4, 3, 4, 1, key=k2))])


CALLS = {
    "eager": lambda net: net(jnp.ones(3)),
    "filter_jit": lambda net: typedeqx.filter_jit(net)(jnp.ones(3)),
    "filter_vmap": lambda net: typedeqx.filter_vmap(net)(jnp.ones((2, 3))),
    "filter_vmap_lambda": lambda net: typedeqx.filter_vmap(
        lambda m, x: m(x), in_axes=(None, 0)
    )(net, jnp.ones((2, 3))),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_path_through_two_unchecked_parents(call, getkey):
    with pytest.raises(ShapeError) as info:
        call(_net(getkey()))
    error = info.value
    assert error.path == "Net.blocks[1].mlp.layers[0]"
    assert str(error).startswith(
        "Net.blocks[1].mlp.layers[0] (Linear.__call__): argument x is f32[3], "
        'expected Inexact[Array, "in_features"] with in_features=4 '
        "(bound by field weight f32[4,4])"
    )


def test_checked_parents_still_extend_the_path(getkey):
    mlp = nn.MLP(3, 2, 4, 1, key=getkey())
    bad = typedeqx.tree_at(lambda m: m.layers[1].bias, mlp, jnp.ones(5))
    with pytest.raises(ShapeError) as info:
        Net([Block(bad)])(jnp.ones(3))
    assert info.value.path == "Net.blocks[0].mlp.layers[1]"


def test_a_module_outside_the_model_keeps_its_own_name(getkey):
    lin = nn.Linear(3, 4, key=getkey())
    with pytest.raises(ShapeError) as info:
        lin(jnp.ones(5))
    assert info.value.path == "Linear"
