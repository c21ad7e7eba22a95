"""Where a dimension was bound is a structured value (`BoundBy`): its text is what
messages show, and its `kind` is what the checker recognises (never the text)."""

import pickle

import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx
from helpers import ones
from typedeqx._contracts import BoundBy, argument_error


@pytest.mark.parametrize(
    "parts, text",
    [
        (("field", "weight", "f32[4,3]"), "field weight f32[4,3]"),
        (("static field", "size"), "static field size"),
        (("argument", "x", "f32[5]"), "argument x f32[5]"),
        (("return", "return", "f32[2]"), "return value f32[2]"),
        (("field", "members", "f32[6,3]", ".weight"), "field members.weight f32[6,3]"),
    ],
)
def test_text_is_the_message_text(parts, text):
    source = BoundBy(*parts)
    assert source == text and str(source) == text
    assert (source.kind, source.name) == parts[:2]


def test_is_immutable_and_validates_its_kind():
    source = BoundBy("field", "weight", "f32[4,3]")
    with pytest.raises(AttributeError, match="immutable"):
        source.kind = "argument"
    with pytest.raises(ValueError, match="kind must be one of"):
        BoundBy("static", "size")


def test_bound_keeps_the_origin_and_names_the_value():
    label = BoundBy("argument", "x")
    source = label.bound("f32[3]", "[0]")
    assert (source.kind, source.name, source.value, source.at) == (
        "argument",
        "x",
        "f32[3]",
        "[0]",
    )
    assert source == "argument x[0] f32[3]"


@eqx.checked
class Affine(eqx.Module):
    weight: Float[Array, "out in"]

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight @ x


@eqx.checked
class Wrapper(eqx.Module):
    inner: Affine
    out: int = eqx.field(static=True)

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " out"]:
        return self.inner(x)


def test_errors_carry_structured_sources():
    with pytest.raises(eqx.ShapeError) as info:
        Affine(ones(2, 3))(ones(4))
    source = info.value.bound_by["in"]
    assert isinstance(source, BoundBy)
    assert (source.kind, source.name, source.value) == ("field", "weight", "f32[2,3]")


def test_a_static_field_source_gives_no_guessed_surgery_hint():
    # No field of either module disagrees with its own static configuration, so
    # nothing shows that a sub-layer was swapped: no hint is better than a guess.
    wrapper = Wrapper(Affine(ones(2, 3)), out=2)
    swapped = eqx.tree_at(lambda w: w.inner, wrapper, Affine(ones(5, 3)))
    with pytest.raises(eqx.ShapeError) as info:
        swapped(ones(3))
    error = info.value
    assert error.bound_by["out"].kind == "static field"
    assert error.hint is None
    assert "(bound by static field out)" in str(error)


def test_argument_error_reports_static_fields_structurally():
    error = argument_error(
        Wrapper(Affine(ones(2, 3)), out=2),
        "x",
        jnp.ones(()),
        expected='Float[Array, " n"]',
        detail="got a scalar",
        dims=("out",),
    )
    assert error.bound_by == {"out": "static field out"}
    assert error.bound_by["out"].kind == "static field"
    assert "out=2 (bound by static field out)" in str(error)


def test_sources_survive_pickling():
    with pytest.raises(eqx.ShapeError) as info:
        Affine(ones(2, 3))(ones(4))
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.bound_by == info.value.bound_by
    assert copy.bound_by["in"].kind == "field"
    assert str(copy) == str(info.value)
