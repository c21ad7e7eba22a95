"""filter_make_jaxpr."""

import jax
import jax.numpy as jnp

import typedeqx as eqx


def test_traces_arrays_and_structs_keeps_the_rest():
    def f(x, y, n, fn):
        return {"out": fn(x) * n + y, "n": n, "fn": fn}

    jaxpr, shapes, static = eqx.filter_make_jaxpr(f)(
        jnp.ones(3), jax.ShapeDtypeStruct((3,), jnp.float32), 2.0, jnp.sin
    )
    assert len(jaxpr.jaxpr.invars) == 2
    assert shapes == {
        "out": jax.ShapeDtypeStruct((3,), jnp.float32),
        "n": None,
        "fn": None,
    }
    assert static == {"out": None, "n": 2.0, "fn": jnp.sin}
    assert "sin" in str(jaxpr)


def test_model(getkey):
    model = eqx.nn.MLP(2, 3, 4, 1, key=getkey())
    jaxpr, shapes, static = eqx.filter_make_jaxpr(model)(jnp.ones(2))
    assert shapes == jax.ShapeDtypeStruct((3,), jnp.float32)
    assert static is None
    assert jax.core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, jnp.ones(2))[0].shape == (3,)
