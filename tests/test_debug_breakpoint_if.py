"""`debug.breakpoint_if`, with `jax.debug.breakpoint` replaced by a recorder (a
real breakpoint would wait for input)."""

import jax
import jax.numpy as jnp
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")


@pytest.fixture(params=["typedeqx", "equinox"])
def lib(request):
    return typedeqx if request.param == "typedeqx" else equinox


@pytest.fixture
def hits(monkeypatch):
    """Each time the stand-in breakpoint runs (at run time), its keyword arguments
    other than `token` are appended here."""
    seen = []

    def fake_breakpoint(*, token=None, **kwargs):
        jax.debug.callback(lambda: seen.append(kwargs), ordered=False)
        return token

    monkeypatch.setattr(jax.debug, "breakpoint", fake_breakpoint)
    return seen


@pytest.mark.parametrize("jit", [False, True])
def test_triggers_only_when_true(lib, hits, jit):
    def f(x):
        lib.debug.breakpoint_if(x > 1, num_frames=2)
        return x

    f = jax.jit(f) if jit else f
    jax.block_until_ready(f(jnp.array(0.0)))
    jax.effects_barrier()
    assert hits == []
    jax.block_until_ready(f(jnp.array(2.0)))
    jax.effects_barrier()
    assert hits == [{"num_frames": 2}]


def test_any_element_of_a_batch_triggers_once(lib, hits):
    f = jax.vmap(lambda x: lib.debug.breakpoint_if(x > 1))
    f(jnp.array([0.0, 1.0]))
    jax.effects_barrier()
    assert hits == []
    f(jnp.array([0.0, 2.0, 3.0]))
    jax.effects_barrier()
    assert len(hits) == 1


def test_array_predicate_of_any_shape(lib, hits):
    lib.debug.breakpoint_if(jnp.array([[False, True]]))
    jax.effects_barrier()
    assert len(hits) == 1


def test_token_is_returned(lib, hits):
    token = jnp.array(5.0)
    out = lib.debug.breakpoint_if(jnp.array(False), token=token)
    assert out == 5.0
    assert lib.debug.breakpoint_if(jnp.array(False)) is None
