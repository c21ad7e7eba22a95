"""`nn.Linear` compared with Equinox: zero-sized and complex layers."""

import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")


@pytest.mark.parametrize(
    "sizes", [(0, 3), (3, 0), (0, 0), ("scalar", 0), (0, "scalar"), (2, 3)]
)
@pytest.mark.parametrize("dtype", [None, jnp.complex64])
def test_same_parameters_and_output(sizes, dtype):
    key = jr.PRNGKey(3)
    ours = eqx.nn.Linear(*sizes, dtype=dtype, key=key)
    ref = eqx_ref.nn.Linear(*sizes, dtype=dtype, key=key)
    assert ours.weight.dtype == ref.weight.dtype
    assert bool(eqx.tree_equal(ours.weight, ref.weight))
    assert bool(eqx.tree_equal(ours.bias, ref.bias))
    in_shape = () if sizes[0] == "scalar" else (sizes[0],)
    x = jnp.ones(in_shape, ref.weight.dtype)
    assert bool(eqx.tree_equal(ours(x), ref(x), rtol=1e-6, atol=1e-6))


def test_integer_input_stays_a_contract_violation():
    layer = eqx.nn.Linear(2, 3, key=jr.PRNGKey(0))
    with pytest.raises(eqx.ShapeError):
        layer(jnp.ones(2, jnp.int32))
    assert layer(jnp.ones(2, jnp.int32).astype(jnp.float32)).shape == (3,)
