"""`debug.store_dce` and `debug.inspect_dce`: which arrays `jit` removed."""

import jax
import jax.numpy as jnp
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")


@pytest.fixture(params=["typedeqx", "equinox"])
def lib(request):
    return typedeqx if request.param == "typedeqx" else equinox


def _report(lib, name, capsys):
    lib.debug.inspect_dce(name)
    return capsys.readouterr().out.replace("equinox", "typedeqx")


def test_reports_the_dead_array(lib, capsys):
    name = object()

    @jax.jit
    def f(x):
        kept, _ = lib.debug.store_dce((x**2, x + 1), name=name)
        return kept

    f(1)
    assert _report(lib, name, capsys) == (
        "Found 1 call to `typedeqx.debug.store_dce`.\nEntry 0:\n(i32[], <DCE'd>)\n"
    )


def test_non_arrays_and_several_calls(capsys):
    # typedeqx only: Equinox 0.13.8 fails on a second entry (it keeps the first
    # entry's leaves when unflattening the second).
    lib, name = typedeqx, object()

    @jax.jit
    def f(x):
        tree = lib.debug.store_dce({"a": x, "b": "label", "c": x * 2}, name=name)
        lib.debug.store_dce(jnp.ones((2, 3)), name=name)
        return tree["a"]

    f(jnp.array([1.0, 2.0]))
    assert _report(lib, name, capsys) == (
        "Found 2 calls to `typedeqx.debug.store_dce`.\n"
        "Entry 0:\n{'a': f32[2], 'b': 'label', 'c': <DCE'd>}\n"
        "Entry 1:\n<DCE'd>\n"
    )


def test_no_calls(lib, capsys):
    assert _report(lib, object(), capsys) == (
        "Found 0 calls to `typedeqx.debug.store_dce`.\n"
    )


def test_store_outside_jit_is_an_error(lib):
    with pytest.raises(RuntimeError):
        lib.debug.store_dce(jnp.ones(2))


def test_inspect_inside_jit_is_an_error(lib):
    with pytest.raises(RuntimeError):
        jax.jit(lambda x: lib.debug.inspect_dce() or x)(jnp.ones(2))


def test_store_is_the_identity():
    out = jax.jit(lambda x: typedeqx.debug.store_dce((x, 3), name=object()))(
        jnp.arange(3)
    )
    assert out[1] == 3 and out[0].tolist() == [0, 1, 2]
