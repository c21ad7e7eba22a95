"""filter_pure_callback."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx


def host(x, scale, *, label):
    assert not isinstance(x, jax.core.Tracer)  # runs on concrete values
    return {"y": np.asarray(x) * scale, "label": label}


def spec(label):
    return {"y": jax.ShapeDtypeStruct((3,), jnp.float32), "label": label}


def test_arbitrary_inputs_and_outputs_under_jit():
    @eqx.filter_jit
    def f(x):
        return eqx.filter_pure_callback(
            host, x, 2.0, label="a", result_shape_dtypes=spec("a")
        )

    out = f(jnp.ones(3))
    assert out["label"] == "a"
    np.testing.assert_allclose(out["y"], 2.0)


def test_under_vmap():
    def f(x):
        return eqx.filter_pure_callback(
            host,
            x,
            2.0,
            label="a",
            result_shape_dtypes=spec("a"),
            vmap_method="sequential",
        )

    out = eqx.filter_vmap(f)(jnp.ones((4, 3)))
    assert out["y"].shape == (4, 3) and out["label"] == "a"
    assert jax.vmap(lambda x: f(x)["y"])(jnp.ones((4, 3))).shape == (4, 3)


def test_mismatched_outputs():
    with pytest.raises(Exception, match="different structure or different non-array"):
        jax.block_until_ready(
            eqx.filter_pure_callback(
                host, jnp.ones(3), 2.0, label="a", result_shape_dtypes=spec("b")
            )
        )
    bad = {"y": jax.ShapeDtypeStruct((4,), jnp.float32), "label": "a"}
    with pytest.raises(Exception, match="declares shape"):
        jax.block_until_ready(
            eqx.filter_pure_callback(
                host, jnp.ones(3), 2.0, label="a", result_shape_dtypes=bad
            )
        )
