"""filter_shard."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


def test_device_and_sharding_outside_jit():
    device = jax.devices()[0]
    tree = (jnp.ones(2), "label", np.ones(3))
    out = eqx.filter_shard(tree, device)
    assert out[1] == "label"
    assert out[0].devices() == {device} and isinstance(out[2], jax.Array)
    sharding = jax.sharding.SingleDeviceSharding(device)
    assert eqx.filter_shard(tree, sharding)[2].sharding == sharding


def test_prefix_tree_of_shardings_inside_jit():
    device = jax.devices()[0]
    sharding = jax.sharding.SingleDeviceSharding(device)

    @eqx.filter_jit
    def f(tree):
        return eqx.filter_shard(tree, {"a": sharding, "b": device})

    out = f({"a": jnp.ones(2), "b": (jnp.ones(3), jax.nn.relu)})
    assert out["b"][1] is jax.nn.relu
    np.testing.assert_allclose(out["a"], 1.0)


def test_prefix_mismatch():
    with pytest.raises(ValueError):
        eqx.filter_shard({"a": jnp.ones(2)}, {"b": jax.devices()[0]})


def test_none_in_the_shardings_stands_for_a_non_array_leaf():
    # Equinox matches the shardings against the arrays of `x`, with every other leaf
    # as None, so a shardings tree built with `None` for non-arrays is accepted.
    eqx_ref = pytest.importorskip("equinox")
    device = jax.devices()[0]
    tree = {"w": jnp.ones(3), "p": 0.5, "name": "layer"}
    shardings = {
        "w": jax.sharding.SingleDeviceSharding(device),
        "p": None,
        "name": None,
    }
    ours = eqx.filter_shard(tree, shardings)
    theirs = eqx_ref.filter_shard(tree, shardings)
    assert ours["p"] == theirs["p"] == 0.5 and ours["name"] == "layer"
    np.testing.assert_array_equal(ours["w"], theirs["w"])
