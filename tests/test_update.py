"""apply_updates and tree_inference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


class Dropoutish(eqx.Module):
    p: float
    inference: bool


class Block(eqx.Module):
    linear: eqx.nn.Linear
    drop: Dropoutish
    extra: list


def test_apply_updates_adds_leafwise():
    model = {"w": jnp.ones(2), "b": jnp.zeros(3)}
    updates = {"w": jnp.full(2, 0.5), "b": jnp.ones(3)}
    new = eqx.apply_updates(model, updates)
    assert np.array_equal(new["w"], jnp.full(2, 1.5))
    assert np.array_equal(new["b"], jnp.ones(3))


def test_none_update_leaves_leaf_unchanged():
    model = {"w": jnp.ones(2), "act": jax.nn.relu}
    new = eqx.apply_updates(model, {"w": jnp.ones(2), "act": None})
    assert new["act"] is jax.nn.relu
    assert np.array_equal(new["w"], jnp.full(2, 2.0))


def test_none_update_prefix_skips_whole_subtree():
    model = {"frozen": [jnp.ones(2), "cfg"], "w": jnp.ones(1)}
    new = eqx.apply_updates(model, {"frozen": None, "w": jnp.ones(1)})
    assert new["frozen"][0] is model["frozen"][0] and new["frozen"][1] == "cfg"
    assert np.array_equal(new["w"], jnp.full(1, 2.0))


def test_apply_updates_on_module_with_partitioned_grads(getkey):
    mlp = eqx.nn.MLP(2, 2, 3, 1, key=getkey())
    params, static = eqx.partition(mlp, eqx.is_inexact_array)

    def loss(params, x):
        return jnp.sum(eqx.combine(params, static)(x) ** 2)

    grads = jax.grad(loss)(params, jnp.ones(2))
    updates = jax.tree_util.tree_map(lambda g: -0.1 * g, grads)
    new = eqx.apply_updates(mlp, updates)
    assert isinstance(new, eqx.nn.MLP) and new.activation is mlp.activation
    expected = mlp.layers[0].weight - 0.1 * grads.layers[0].weight
    assert np.allclose(new.layers[0].weight, expected)
    assert loss(eqx.filter(new, eqx.is_inexact_array), jnp.ones(2)) < loss(
        params, jnp.ones(2)
    )


def test_apply_updates_structure_mismatch():
    with pytest.raises(
        eqx.TreeError, match=r"`updates` to be a PyTree prefix of `model`"
    ):
        eqx.apply_updates({"w": jnp.ones(2)}, {"v": jnp.ones(2)})


def test_apply_updates_shape_error_is_not_reported_as_structure():
    with pytest.raises(TypeError, match=r"incompatible shapes.*\(2,\), \(3,\)"):
        eqx.apply_updates({"w": jnp.ones(2)}, {"w": jnp.ones(3)})


def _block(key):
    return Block(
        eqx.nn.Linear(2, 2, key=key), Dropoutish(0.5, False), [Dropoutish(0.1, False)]
    )


def test_tree_inference_sets_every_flag(getkey):
    block = _block(getkey())
    on = eqx.tree_inference(block, True)
    assert on.drop.inference is True and on.extra[0].inference is True
    assert on.drop.p == 0.5 and on.linear.weight is block.linear.weight
    assert block.drop.inference is False
    off = eqx.tree_inference(on, False)
    assert off.drop.inference is False and off.extra[0].inference is False


def test_tree_inference_without_flags_is_unchanged(getkey):
    linear = eqx.nn.Linear(2, 2, key=getkey())
    assert eqx.tree_inference(linear, True) is linear


def test_nn_inference_mode_is_tree_inference():
    class Drop(eqx.Module):
        inference: bool = False

    model = [Drop(), {"d": Drop(True)}]
    on = eqx.nn.inference_mode(model)
    assert on[0].inference and on[1]["d"].inference
    off = eqx.nn.inference_mode(on, value=False)
    assert not off[0].inference and not off[1]["d"].inference
