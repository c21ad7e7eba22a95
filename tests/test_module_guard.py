"""Field guards: a built Module cannot be changed through `object.__setattr__`,
while reads, defaults, `__init__`, copies and subclasses behave as in Equinox."""

import copy
import dataclasses
import pickle

import equinox
import jax
import jax.numpy as jnp
import pytest

import typedeqx as eqx


class Box(eqx.Module):
    w: jax.Array
    n: int = 3
    tag: str = eqx.field(static=True, default="t")


class EquinoxBox(equinox.Module):
    w: jax.Array
    n: int = 3
    tag: str = equinox.field(static=True, default="t")


def _box(lib):
    return Box if lib is eqx else EquinoxBox


@pytest.mark.parametrize("name", ["w", "n", "tag"])
def test_object_setattr_on_a_built_module_raises(name):
    box = _box(eqx)(jnp.ones(2))
    with pytest.raises(eqx.FrozenFieldError) as info:  # also an AttributeError
        object.__setattr__(box, name, 0)
    assert isinstance(info.value, AttributeError)
    assert str(info.value) == (
        f"Cannot assign Box.{name}: modules are immutable after __init__, also "
        "through object.__setattr__ (typedeqx relies on it: filter_jit would keep "
        "using the old value). Make an updated copy instead: "
        f"`typedeqx.tree_at(lambda m: m.{name}, module, new_value)`."
    )
    with pytest.raises(AttributeError, match=f"Cannot delete Box.{name}"):
        object.__delattr__(box, name)
    assert box.n == 3 and box.tag == "t" and float(box.w.sum()) == 2.0


def test_a_memoised_call_never_sees_a_refused_assignment():
    box = _box(eqx)(jnp.ones(2))
    total = eqx.filter_jit(lambda b: b.w.sum() * b.n)
    assert float(total(box)) == 6.0
    for name, value in (("w", jnp.zeros(2)), ("n", 5)):
        with pytest.raises(AttributeError):
            object.__setattr__(box, name, value)
        assert float(total(box)) == 6.0
    assert float(total(eqx.tree_at(lambda b: b.w, box, jnp.zeros(2)))) == 0.0


@pytest.mark.parametrize("lib", [eqx, equinox], ids=["typedeqx", "equinox"])
def test_class_attributes_and_reads_as_in_equinox(lib):
    Box = _box(lib)
    box = Box(jnp.ones(2))
    assert (Box.n, Box.tag, box.n, box.tag) == (3, "t", 3, "t")
    assert not hasattr(Box, "w")
    assert box.w is box.__dict__["w"]
    assert vars(box).keys() == {"w", "n", "tag"}


@pytest.mark.parametrize("lib", [eqx, equinox], ids=["typedeqx", "equinox"])
def test_init_may_assign_and_read_defaults_as_in_equinox(lib):
    class Scaled(lib.Module):
        w: jax.Array
        scale: float = 2.0
        doubled: float = 0.0

        def __init__(self, w):
            self.doubled = self.scale * 2  # the class default, before assignment
            object.__setattr__(self, "w", w * self.scale)  # allowed in __init__

    s = Scaled(jnp.ones(2))
    assert s.doubled == 4.0 and s.scale == 2.0 and float(s.w.sum()) == 4.0


@pytest.mark.parametrize("lib", [eqx, equinox], ids=["typedeqx", "equinox"])
def test_subclasses_defaults_properties_converters_as_in_equinox(lib):
    class Base(lib.Module):
        a: int = 1
        b: float = lib.field(default=1.5, converter=float)
        items: list = lib.field(default_factory=list)

    class Child(Base):
        a: int = 7

    child = Child(b=2)
    assert (Base.a, Child.a, child.a, child.b, child.items) == (1, 7, 7, 2.0, [])
    assert type(child.b) is float


def test_a_property_may_replace_an_inherited_field():
    # Equinox raises here ("property 'a' ... has no setter"); see the README.
    class Base(eqx.Module):
        a: int = 1

    class Renamed(Base):
        @property
        def a(self):
            return 42

    renamed = Renamed()
    assert renamed.a == 42 and Renamed.a is Renamed.__dict__["a"]
    assert "a" not in {f.name for f in dataclasses.fields(Renamed)}


def test_copies_and_replace_still_work():
    box = _box(eqx)(jnp.arange(2.0))
    for other in (copy.copy(box), copy.deepcopy(box), pickle.loads(pickle.dumps(box))):
        assert type(other) is type(box) and other.n == 3
        assert jnp.array_equal(other.w, box.w)
        with pytest.raises(AttributeError):
            object.__setattr__(other, "n", 4)
    replaced = dataclasses.replace(box, n=5)
    assert replaced.n == 5 and box.n == 3


def test_a_stateful_model_still_names_its_state():
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="ema")
    assert model.ema_state_index.marker == "BatchNorm.ema_state_index"
    assert state.get(model.ema_state_index) is not None
