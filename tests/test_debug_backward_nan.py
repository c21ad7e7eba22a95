"""`debug.backward_nan`: the identity forward; on the backward pass it prints the
primal and cotangent, and stops on a NaN cotangent. Compared with Equinox."""

import jax
import jax.numpy as jnp
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")


@pytest.fixture(params=["typedeqx", "equinox"])
def lib(request):
    return typedeqx if request.param == "typedeqx" else equinox


def _printed(capfd):
    jax.effects_barrier()
    return capfd.readouterr().out


def test_forward_is_the_identity(lib, capfd):
    x = {"a": jnp.arange(3.0), "b": "static"}
    out = lib.debug.backward_nan(x)
    assert out["b"] == "static" and bool(jnp.all(out["a"] == x["a"]))
    assert _printed(capfd) == ""


def test_backward_prints_primal_and_cotangent(lib, capfd):
    f = lambda x: 3 * lib.debug.backward_nan(x, name="here")  # noqa: E731
    g = jax.grad(f)(jnp.array(2.0, jnp.float32))
    assert g == 3.0
    assert _printed(capfd) == (
        "here:\n"
        "   primals=Array(2., dtype=float32)\n"
        "cotangents=Array(3., dtype=float32)\n"
    )


def test_same_printout_as_equinox(capfd):
    def run(lib):
        f = lambda x: jnp.sum(jnp.sin(lib.debug.backward_nan(x)))  # noqa: E731
        jax.grad(f)(jnp.array([0.0, 1.0]))
        return _printed(capfd)

    assert run(typedeqx) == run(equinox)


def test_nan_cotangent_raises(lib, capfd):
    f = lambda x: jnp.sqrt(lib.debug.backward_nan(x) - 1.0)  # noqa: E731
    with pytest.raises(lib.EquinoxRuntimeError, match="Encountered NaN"):
        jax.block_until_ready(jax.grad(f)(jnp.array(0.5)))
    assert "cotangents=Array(nan" in _printed(capfd)


def test_nan_cotangent_passes_without_terminate(lib, capfd):
    f = lambda x: jnp.sqrt(lib.debug.backward_nan(x, terminate=False) - 1.0)  # noqa: E731
    assert jnp.isnan(jax.grad(f)(jnp.array(0.5)))
    assert "cotangents=Array(nan" in _printed(capfd)


def test_under_jit_and_through_a_pytree(lib, capfd):
    @jax.jit
    @jax.grad
    def f(tree):
        tree = lib.debug.backward_nan(tree)
        return jnp.sum(tree[0] * tree[1])

    ga, gb = f((jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0])))
    assert ga.tolist() == [3.0, 4.0] and gb.tolist() == [1.0, 2.0]
    assert "cotangents=(Array([3., 4.], dtype=float32)" in _printed(capfd)
