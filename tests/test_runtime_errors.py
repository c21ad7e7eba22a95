"""error_if / branched_error_if against Equinox: the same exception types, the
message carried, under jit, vmap, grad, scan and while_loop."""

import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx
from typedeqx._runtime_errors import read_on_error

eqx_ref = pytest.importorskip("equinox")
LIBS = pytest.mark.parametrize("lib", [eqx, eqx_ref], ids=["typedeqx", "equinox"])


def _raises(lib):
    # Equinox's class outside its own filter_jit is JAX's; both are RuntimeErrors.
    return lib.EquinoxRuntimeError


@LIBS
def test_false_predicate_returns_x(lib):
    x = jnp.arange(3.0)
    assert np.array_equal(lib.error_if(x, x > 5, "no"), x)
    assert np.array_equal(jax.jit(lambda y: lib.error_if(y, y > 5, "no"))(x), x)


@LIBS
def test_eager_runtime_error(lib):
    x = jnp.arange(3.0)
    with pytest.raises(_raises(lib), match="x must be small"):
        lib.error_if(x, x > 1, "x must be small")


@LIBS
def test_error_points_at_the_call_or_carries_message(lib):
    x = jnp.arange(3.0)
    with pytest.raises(RuntimeError) as info:
        lib.error_if(x, x > 1, "where am I")
    assert "where am I" in str(info.value)
    if lib is eqx:
        assert "test_runtime_errors.py" in str(info.value)


@LIBS
def test_under_jax_jit_raises_jax_runtime_error(lib):
    x = jnp.arange(3.0)
    f = jax.jit(lambda y: lib.error_if(y, y > 1, "jit message"))
    with pytest.raises(jax.errors.JaxRuntimeError, match="jit message"):
        jax.block_until_ready(f(x))


@LIBS
@pytest.mark.parametrize("transform", ["vmap", "grad"])
def test_vmap_and_grad(lib, transform):
    x = jnp.arange(3.0)
    if transform == "vmap":
        fn = jax.vmap(lambda y: lib.error_if(y, y > 1.5, "batched"))
        arg = x
    else:
        fn = jax.grad(lambda y: lib.error_if(y, y > 1, "batched") ** 2)
        arg = jnp.array(2.0)
    with pytest.raises(_raises(lib), match="batched"):
        jax.block_until_ready(fn(arg))


def test_grad_passes_through_when_false():
    g = jax.grad(lambda y: eqx.error_if(y, y > 5, "no") ** 2)(jnp.array(2.0))
    assert g == 4.0


@LIBS
@pytest.mark.parametrize("loop", ["scan", "while"])
def test_loops(lib, loop):
    def step(c):
        return lib.error_if(c, c > 3, "loop message") + 1

    def run():
        if loop == "scan":
            return jax.lax.scan(lambda c, _: (step(c), None), jnp.array(0.0), length=9)[
                0
            ]
        return jax.lax.while_loop(lambda c: c < 9, step, jnp.array(0.0))

    with pytest.raises(jax.errors.JaxRuntimeError, match="loop message"):
        jax.block_until_ready(jax.jit(run)())


@LIBS
def test_known_true_raises_at_trace_time(lib):
    with pytest.raises(lib.EquinoxTracetimeError, match="static"):
        lib.error_if(jnp.ones(2), True, "static")
    with pytest.raises(lib.EquinoxTracetimeError, match="static"):
        lib.error_if(1.0, True, "static")


@LIBS
def test_branched_picks_the_largest_index(lib):
    x = jnp.arange(3.0)
    with pytest.raises(_raises(lib), match="second"):
        lib.branched_error_if(x, x > 0, jnp.array([0, 1, 1]), ["first", "second"])


@LIBS
def test_nan_and_off(lib):
    x = jnp.arange(3.0)
    assert np.all(np.isnan(lib.error_if(x, x > 1, "m", on_error="nan")))
    assert np.array_equal(lib.error_if(x, x > 1, "m", on_error="off"), x)
    ints = jnp.arange(3)
    out = lib.error_if(ints, ints > 1, "m", on_error="nan")
    assert np.all(out == np.iinfo(np.int32).max)


@LIBS
def test_no_array_to_attach_to(lib):
    with pytest.raises(ValueError):
        lib.error_if("text", jnp.array(True) > jnp.array(False), "m")


def test_bad_on_error_argument():
    with pytest.raises(RuntimeError, match="on_error"):
        eqx.error_if(jnp.ones(1), jnp.ones(1) > 0, "m", on_error="loud")


@pytest.mark.parametrize(
    ("environ", "mode"),
    [({}, "raise"), ({"EQX_ON_ERROR": "nan"}, "nan"), ({"EQX_ON_ERROR": "off"}, "off")],
)
def test_environment_variable_parsing(environ, mode):
    assert read_on_error(environ) == mode


def test_invalid_environment_variable_is_rejected():
    with pytest.raises(ValueError, match=re.escape("EQX_ON_ERROR='loud'")):
        read_on_error({"EQX_ON_ERROR": "loud"})


_SCRIPT = """
import jax.numpy as jnp, numpy as np, typedeqx as eqx
x = jnp.arange(3.0)
out = eqx.error_if(x, x > 1, "m")
print("nan" if np.all(np.isnan(out)) else "same" if np.array_equal(out, x) else "?")
"""


def test_environment_variable_read_at_import():
    # One process for the variable: it is read at import, from os.environ.
    env = {**os.environ, "EQX_ON_ERROR": "nan", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "nan", out.stderr[-2000:]


def test_clear_caches_runs():
    eqx.error_if(jnp.ones(1), jnp.ones(1) > 5, "m")
    eqx.clear_caches()
    assert np.array_equal(eqx.error_if(jnp.ones(1), jnp.ones(1) > 5, "m"), jnp.ones(1))


@LIBS
@pytest.mark.parametrize("nested", [False, True], ids=["vmap", "vmap-of-vmap"])
def test_vmap_names_the_failing_batch_index(lib, nested):
    # Both raise their runtime error with the message; typedeqx also says which
    # batch element failed (Equinox 0.13.8 does not).
    def f(y):
        return lib.error_if(y, y < 0, "y must be >= 0")

    if nested:
        fn, arg = jax.vmap(jax.vmap(f)), jnp.array([[1.0, 2.0], [3.0, -1.0]])
    else:
        fn, arg = jax.vmap(f), jnp.array([1.0, -1.0, 2.0, -3.0])
    with pytest.raises(lib.EquinoxRuntimeError) as info:
        jax.block_until_ready(lib.filter_jit(fn)(arg))
    assert "y must be >= 0" in str(info.value)
    if lib is eqx:
        index, count, size = ((1, 1), 1, 4) if nested else ((1,), 2, 4)
        assert (
            f"Batch index {index} had error ({count} of {size} batch elements "
            "failed; the first shown, vmap axes outermost first)."
        ) in str(info.value)


def test_branched_error_if_under_vmap_names_batch_index():
    def f(y):
        return eqx.branched_error_if(y, y < 0, jnp.where(y < -5, 1, 0), ["neg", "very"])

    with pytest.raises(eqx.EquinoxRuntimeError) as info:
        eqx.filter_jit(jax.vmap(f))(jnp.array([1.0, -1.0, -9.0]))
    assert str(info.value).startswith(
        "very\n\nBatch index (1,) had error (2 of 3 batch elements failed; the "
        "first shown, vmap axes outermost first)."
    )


def test_no_batch_note_without_vmap():
    with pytest.raises(eqx.EquinoxRuntimeError) as info:
        eqx.filter_jit(lambda y: eqx.error_if(y, y < 0, "neg"))(jnp.array([-1.0]))
    assert "Batch index" not in str(info.value)


@LIBS
def test_filter_jit_failure_logs_nothing(lib, capfd, caplog):
    # JAX logs `jax.pure_callback failed` with a traceback when a callback raises;
    # for error_if's own error, neither library lets that reach stderr.
    f = lib.filter_jit(lambda y: lib.error_if(y, y < 0, "quiet please"))
    with caplog.at_level("DEBUG"):
        with pytest.raises(lib.EquinoxRuntimeError, match="quiet please"):
            f(jnp.array([-1.0]))
    out, err = capfd.readouterr()
    assert "pure_callback failed" not in err + out
    assert not [r for r in caplog.records if "pure_callback failed" in r.getMessage()]


def test_other_callback_failures_are_still_logged(caplog):
    def boom(y):
        raise KeyError("not ours")

    f = jax.jit(lambda y: jax.pure_callback(boom, jax.ShapeDtypeStruct((), y.dtype), y))
    with caplog.at_level("ERROR", logger="jax._src.callback"):
        with pytest.raises(jax.errors.JaxRuntimeError, match="not ours"):
            jax.block_until_ready(f(jnp.array(1.0)))
    assert [r for r in caplog.records if "pure_callback failed" in r.getMessage()]
