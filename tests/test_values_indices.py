"""With value checks on, `Embedding` ids outside `[0, num_embeddings)` raise (JAX
would clamp the gather and return the last row), eagerly and under jit and vmap."""

import re

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float, Int

import typedeqx as eqx


@eqx.checked
class Tagger(eqx.Module):
    embed: eqx.nn.Embedding
    head: eqx.nn.Linear

    def __call__(self, token: Int[Array, ""]) -> Float[Array, " 2"]:
        return self.head(self.embed(token))


def _model() -> Tagger:
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    return Tagger(eqx.nn.Embedding(65, 8, key=k1), eqx.nn.Linear(8, 2, key=k2))


def _message(value: int) -> str:
    return (
        f"`Tagger.embed` got an index out of range: x is {value}, outside [0, 65) "
        "(1 of 1 indices out of range). JAX would clamp it and silently return "
        "another row; pass indices below 65, or make the table larger."
    )


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("value", [65, 1000, -1])
def test_out_of_range_id(jit, value):
    model = _model()
    f = eqx.filter_jit(model) if jit else model
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError, match="^" + re.escape(_message(value))):
            f(jnp.array(value))
        f(jnp.array(64))  # in range: fine


def test_out_of_range_id_under_vmap_names_position():
    model = _model()
    f = eqx.filter_jit(eqx.filter_vmap(model))
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            f(jnp.array([3, 7, 70, 99]))
    assert str(info.value) == _message(70) + (
        "\nBatch index (2,) had error (vmap axes outermost first)."
    )


def test_python_int_id():
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError, match="x is 65"):
            _model().embed(65)


def test_off_by_default_clamps_like_equinox():
    eqx_ref = pytest.importorskip("equinox")
    model = _model()
    ref = eqx_ref.nn.Embedding(weight=model.embed.weight)
    assert jnp.array_equal(model.embed(jnp.array(70)), ref(jnp.array(70)))
    text = str(jax.make_jaxpr(model.embed)(jnp.array(3)))
    with eqx.checks(values=True):
        with eqx.checks(values=False):
            assert str(jax.make_jaxpr(model.embed)(jnp.array(3))) == text
