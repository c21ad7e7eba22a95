"""Field contracts: checked after `__init__` and converters, before `__check_init__`;
static int fields bind dimensions; nested modules; subclasses; `Batched`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Float, Int

import typedeqx
from helpers import ones
from typedeqx import Batched, Module, ShapeError, checked, field


@checked
class Affine(Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]


def test_fields_checked_at_init():
    Affine(ones(2, 3), ones(2))
    with pytest.raises(ShapeError, match="Affine.__init__: field bias is f32\\[3\\]"):
        Affine(ones(2, 3), ones(3))
    with pytest.raises(ShapeError, match="field weight"):
        Affine(ones(3), ones(3))


def test_fields_checked_after_init_and_converters_before_check_init():
    order = []

    def convert(value):
        order.append("convert")
        return jnp.asarray(value, jnp.float32)

    @checked
    class M(Module):
        x: Float[Array, " n"] = field(converter=lambda v: convert(v))

        def __init__(self, x):
            order.append("init")
            self.x = x

        def __check_init__(self):
            order.append("check_init")

    M([1.0, 2.0])  # a list, made an array by the converter before the check
    assert order == ["init", "convert", "check_init"]
    order.clear()
    with pytest.raises(ShapeError):
        M([[1.0]])
    assert order == ["init", "convert"]


def test_generated_init_is_checked_too():
    @checked
    class M(Module):
        x: Int[Array, " n"]
        y: Int[Array, " n"]

    M(ones(2, dtype=jnp.int32), ones(2, dtype=jnp.int32))
    with pytest.raises(ShapeError, match="expected a signed integer dtype, got f32"):
        M(ones(2), ones(2))


def test_static_int_field_binds_dimension():
    @checked
    class M(Module):
        weight: Float[Array, " size"]
        size: int = field(static=True)

    M(ones(3), 3)
    with pytest.raises(ShapeError, match="static field size is 4.*size=3"):
        M(ones(3), 4)


def test_static_field_binds_before_array_fields_declared_later():
    @checked
    class M(Module):
        size: int = field(static=True)
        weight: Float[Array, " size"] = field(default=None)

    with pytest.raises(ShapeError, match="size=2 \\(bound by static field size\\)"):
        M(2, ones(3))


def test_static_non_int_and_bool_fields_bind_nothing():
    @checked
    class M(Module):
        x: Float[Array, " flag"]
        flag: bool = field(static=True)
        name: str = field(static=True, default="n")

    M(ones(5), True)
    with pytest.raises(ShapeError, match="static field name"):
        M(ones(5), True, 3)


def test_nested_module_field_is_checked_as_instance():
    @checked
    class Outer(Module):
        inner: Affine
        others: tuple[Affine, ...]

    a = Affine(ones(2, 3), ones(2))
    Outer(a, (a, a))
    with pytest.raises(ShapeError, match="field inner is Outer, expected Affine"):
        Outer(Outer(a, ()), ())
    with pytest.raises(
        ShapeError, match=r"field others is 1 at \[1\], expected Affine"
    ):
        Outer(a, (a, 1))


def test_undecorated_subclass_keeps_only_the_inherited_field_contracts():
    class Scaled(Affine):  # not decorated: its own field is the user's code
        scale: Float[Array, " out_features"]

    Scaled(ones(2, 3), ones(2), ones(3))  # `scale` is not under contract
    with pytest.raises(ShapeError, match="field bias"):
        Scaled(ones(2, 3), ones(3), ones(2))


def test_decorated_subclass_is_checked_with_its_added_fields():
    @checked
    class Scaled(Affine):
        scale: Float[Array, " out_features"]

    Scaled(ones(2, 3), ones(2), ones(2))
    with pytest.raises(ShapeError, match="Scaled.__init__: field scale"):
        Scaled(ones(2, 3), ones(2), ones(3))
    with pytest.raises(ShapeError, match="field bias"):
        Scaled(ones(2, 3), ones(3), ones(2))


def test_subclass_of_unchecked_base_checks_inherited_fields():
    class Base(Module):
        x: Float[Array, " n"]

    @checked
    class Child(Base):
        y: Float[Array, " n"]

    with pytest.raises(ShapeError, match="field y"):
        Child(ones(2), ones(3))
    Base(ones(2))


def test_self_annotation_in_field():
    from typing import Self

    @checked
    class Node(Module):
        value: Float[Array, ""]
        child: Self | None = None

    Node(ones(), Node(ones()))
    with pytest.raises(ShapeError, match="field child"):
        Node(ones(), 3)


def test_forward_reference_resolved_on_first_use():
    @checked
    class Holder(Module):
        item: "LaterDefined"  # noqa: F821 - defined below, before first use

    global LaterDefined

    class LaterDefined(Module):
        x: int

    Holder(LaterDefined(1))
    with pytest.raises(ShapeError):
        Holder(1)


def test_unresolvable_annotation_is_a_clear_error():
    @checked
    class M(Module):
        item: "NoSuchName"  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve the annotations of"):
        M(1)


def _stack(key, n=5):
    def make(k):
        return Affine(jr.normal(k, (2, 3)), jnp.zeros(2))

    return jax.vmap(make)(jr.split(key, n))


@checked
class Ensemble(Module):
    members: Batched[Affine, " ensemble"]

    def __call__(self, x: Float[Array, " in_features"]) -> Float[Array, "ensemble 2"]:
        return typedeqx.filter_vmap(lambda m: m.weight @ x + m.bias)(self.members)


def test_batched_module_field(getkey):
    stack = _stack(getkey())
    assert Ensemble(stack)(ones(3)).shape == (5, 2)


def test_batched_rejects_an_unbatched_module():
    with pytest.raises(ShapeError, match="each ensemble slice of Affine"):
        Ensemble(Affine(ones(2, 3), ones(2)))


def test_batched_rejects_mismatched_leading_axes(getkey):
    stack = _stack(getkey())
    bad = typedeqx.tree_at(lambda m: m.bias, stack, stack.bias[:4])
    with pytest.raises(ShapeError, match=r"bias.*ensemble=5"):
        Ensemble(bad)
    scalar = typedeqx.tree_at(lambda m: m.bias, stack, jnp.float32(0))
    with pytest.raises(ShapeError, match="no leading ensemble axis"):
        Ensemble(scalar)


def test_batched_rejects_wrong_class(getkey):
    with pytest.raises(ShapeError, match='expected Batched\\[Affine, "ensemble"\\]'):
        Ensemble(3)


def test_batched_annotation_arguments_are_validated():
    with pytest.raises(ValueError, match="module class and an axis name"):
        Batched[Affine]
    with pytest.raises(ValueError, match="identifier"):
        Batched[Affine, "not a name"]
    with pytest.raises(ValueError, match="needs a class"):
        Batched[3, "e"]
