"""The switch: `TYPEDEQX_CHECKS` at import, and the `typedeqx.checks` context
manager (per thread)."""

import os
import subprocess
import sys
import textwrap
import threading

import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedeqx
from typedeqx import Module, ShapeError, checked
from typedeqx._contracts import _switch


@checked
class Vec(Module):
    x: Float[Array, " n"]

    def __call__(self, y: Float[Array, " n"]) -> Float[Array, " n"]:
        return self.x * y


@checked
def add(a: Float[Array, " n"], b: Float[Array, " n"]):
    return a + b[0]


def test_on_by_default():
    assert os.environ.get("TYPEDEQX_CHECKS") in (None, "1")
    with pytest.raises(ShapeError):
        Vec(jnp.ones(3))(jnp.ones(2))


def test_off_in_context_for_fields_methods_and_functions():
    with typedeqx.checks(False):
        Vec(jnp.ones((2, 2)))  # a field that breaks its contract
        Vec(jnp.ones(3))(jnp.ones(1))
        add(jnp.ones(3), jnp.ones(1))
    with pytest.raises(ShapeError):
        add(jnp.ones(3), jnp.ones(1))


def test_restored_after_exception_and_nesting():
    with pytest.raises(RuntimeError):
        with typedeqx.checks(False):
            raise RuntimeError
    with pytest.raises(ShapeError):
        add(jnp.ones(3), jnp.ones(1))
    with typedeqx.checks(False):
        with typedeqx.checks(True):
            with pytest.raises(ShapeError):
                add(jnp.ones(3), jnp.ones(1))
        add(jnp.ones(3), jnp.ones(1))


def test_rejects_non_bool():
    with pytest.raises(ValueError, match="takes a bool"):
        with typedeqx.checks(0):
            pass


def test_setting_is_per_thread():
    results = {}
    inside = threading.Event()
    done = threading.Event()

    def other_thread():
        inside.wait()
        try:
            add(jnp.ones(3), jnp.ones(1))
        except ShapeError:
            results["other"] = "checked"
        else:
            results["other"] = "unchecked"
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with typedeqx.checks(False):
        inside.set()
        done.wait()
        add(jnp.ones(3), jnp.ones(1))
    thread.join()
    assert results["other"] == "checked"


@pytest.mark.parametrize(
    "value, expect",
    [
        ("0", False),
        ("off", False),
        (" False ", False),
        ("no", False),
        ("1", True),
        ("on", True),
        ("values", _switch.VALUES),
    ],
)
def test_environment_variable_parsing(monkeypatch, value, expect):
    monkeypatch.setenv("TYPEDEQX_CHECKS", value)
    assert _switch._default_from_environment() is expect


def test_environment_variable_unset_means_on(monkeypatch):
    monkeypatch.delenv("TYPEDEQX_CHECKS", raising=False)
    assert _switch._default_from_environment() is True


def test_environment_variable_at_import():
    # One process for the variable: it is read once, at import.
    program = textwrap.dedent(
        """
        import os
        import jax.numpy as jnp
        import jax.random as jr
        import typedeqx
        os.environ["TYPEDEQX_CHECKS"] = "1"  # read once at import: no effect now
        try:
            typedeqx.nn.Linear(3, 2, key=jr.PRNGKey(0))(jnp.ones(5))
        except typedeqx.ShapeError:
            print("checked")
        except Exception:
            print("unchecked")
        with typedeqx.checks(True):
            try:
                typedeqx.nn.Linear(3, 2, key=jr.PRNGKey(0))(jnp.ones(5))
            except typedeqx.ShapeError:
                print("checked")
        """
    )
    env = dict(os.environ, TYPEDEQX_CHECKS="off", JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["unchecked", "checked"]
