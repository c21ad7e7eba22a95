"""`debug.announce_transform`: the same announcements as Equinox's under each
combination of transformations."""

import jax
import jax.numpy as jnp
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")


def _announced(lib, transform, **kwargs):
    seen = []

    def f(x):
        y = lib.debug.announce_transform(x, announce=seen.append, **kwargs)
        return jnp.sum(y**2)

    jax.block_until_ready(transform(f)(jnp.array([1.0, 2.0])))
    return seen


TRANSFORMS = {
    "eager": lambda f: f,
    "jit": jax.jit,
    "grad": jax.grad,
    "vmap": lambda f: jax.vmap(f),
    "jit-vmap": lambda f: jax.jit(jax.vmap(f)),
    "jit-grad": lambda f: jax.jit(jax.grad(f)),
    "vmap-grad": lambda f: jax.vmap(jax.grad(f)),
    "jvp": lambda f: lambda x: jax.jvp(f, (x,), (jnp.ones_like(x),)),
    "hessian": jax.hessian,
}


@pytest.mark.parametrize("name", TRANSFORMS)
@pytest.mark.parametrize("intermediates", [False, True])
def test_same_announcements_as_equinox(name, intermediates):
    kwargs = dict(name="x", intermediates=intermediates)
    ours = _announced(typedeqx, TRANSFORMS[name], **kwargs)
    theirs = _announced(equinox, TRANSFORMS[name], **kwargs)
    assert ours == theirs
    assert ours and all(a.startswith("(x) ") for a in ours)


def test_expected_paths():
    assert _announced(typedeqx, TRANSFORMS["eager"]) == ["impl"]
    assert _announced(typedeqx, TRANSFORMS["jit"]) == ["abstract", "mlir"]
    assert _announced(typedeqx, TRANSFORMS["vmap"]) == ["vmap:impl"]
    assert _announced(typedeqx, TRANSFORMS["jit-vmap"], intermediates=True) == [
        "vmap", "vmap:abstract", "vmap:mlir",
    ]  # fmt: skip


def test_identity_on_a_pytree(capsys):
    tree = {"a": jnp.arange(3.0), "s": "static"}
    out = typedeqx.debug.announce_transform(tree)
    assert out["s"] == "static" and out["a"].tolist() == [0.0, 1.0, 2.0]
    assert capsys.readouterr().out == "impl\n"
    grad = jax.grad(lambda x: typedeqx.debug.announce_transform(x) * 2)(1.0)
    assert grad == 2.0
