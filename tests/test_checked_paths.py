"""Module paths of a `ShapeError` through unchecked parents: found on the error
path by walking the call stack, eagerly and under `filter_jit` and `filter_vmap`."""

import jax
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


class Pair(Module):  # unchecked; `a` and `b` are of one class
    a: nn.Linear
    b: nn.Linear

    def __call__(self, x):
        unmapped = jax.vmap(lambda layer, t: layer(t), in_axes=(None, 0))
        return unmapped(self.b, unmapped(self.a, x))


PAIR_ERROR = (
    "Pair.b (Linear.__call__): argument x is f32[3], expected "
    'Inexact[Array, "in_features"] with in_features=4 (bound by field weight '
    "f32[1,4])"
)


@pytest.mark.parametrize("jitted", [False, True])
def test_a_module_vmap_passes_unmapped_is_named(jitted, getkey):
    # vmap hands the layer over as a copy holding the very same arrays.
    pair = Pair(nn.Linear(2, 3, key=getkey()), nn.Linear(4, 1, key=getkey()))
    call = typedeqx.filter_jit(lambda m, x: m(x)) if jitted else (lambda m, x: m(x))
    with pytest.raises(ShapeError) as info:
        call(pair, jnp.ones((5, 2)))
    assert str(info.value) == PAIR_ERROR


def test_copies_of_two_modules_holding_the_same_arrays_are_not_named(getkey):
    layer = nn.Linear(4, 1, key=getkey())
    twin = jax.tree_util.tree_map(lambda v: v, layer)  # another object, same arrays
    tied = Pair(layer, twin)
    with pytest.raises(ShapeError) as info:
        tied(jnp.ones((5, 3)))  # a copy of `a`, or of `b`: nothing tells
    assert str(info.value).startswith("Linear.__call__: argument x is f32[3]")
    with pytest.raises(ShapeError) as info:
        Pair(layer, nn.Linear(4, 1, key=getkey()))(jnp.ones((5, 3)))
    assert str(info.value).startswith("Pair.a (Linear.__call__): ")
