"""Module: dataclass semantics, immutability, initialisation protocol, PyTree-ness."""

import abc
import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx


class Affine(eqx.Module):
    weight: jax.Array
    bias: jax.Array
    size: int = eqx.field(static=True)

    def __init__(self, size: int):
        self.weight = jnp.eye(size)
        self.bias = jnp.zeros(size)
        self.size = size

    def __call__(self, x):
        return self.weight @ x + self.bias


class Point(eqx.Module):
    x: float
    y: float = 0.0


def test_generated_init_and_defaults():
    p = Point(1.0)
    assert (p.x, p.y) == (1.0, 0.0)
    assert Point(x=1.0, y=2.0).y == 2.0
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y"]


def test_user_init_assigns_fields():
    a = Affine(3)
    assert a.weight.shape == (3, 3)
    assert a.size == 3


def test_static_fields_live_in_treedef():
    a = Affine(3)
    leaves, treedef = jtu.tree_flatten(a)
    assert len(leaves) == 2
    assert treedef != jtu.tree_structure(Affine(4))
    keys = [jtu.keystr(path) for path, _ in jtu.tree_flatten_with_path(a)[0]]
    assert keys == [".weight", ".bias"]


def test_round_trip_does_not_call_init():
    calls = []

    class Counted(eqx.Module):
        a: jax.Array

        def __init__(self, a):
            calls.append(1)
            self.a = a

    c = Counted(jnp.ones(2))
    leaves, treedef = jtu.tree_flatten(c)
    d = jtu.tree_unflatten(treedef, [jnp.zeros(2)])
    assert len(calls) == 1
    assert type(d) is Counted
    assert np.array_equal(d.a, np.zeros(2))


def test_assignment_after_init_is_an_error():
    a = Affine(2)
    with pytest.raises(
        eqx.FrozenFieldError, match=r"Cannot assign Affine\.weight.*tree_at"
    ):
        a.weight = jnp.ones((2, 2))
    with pytest.raises(AttributeError, match="immutable"):
        del a.bias


def test_assigning_a_non_field_in_init_is_an_error():
    class Bad(eqx.Module):
        a: int

        def __init__(self):
            self.a = 1
            self.b = 2

    with pytest.raises(eqx.ModuleError, match=r"Cannot set Bad\.b: it is not a field"):
        Bad()


def test_unset_field_is_an_error_naming_it():
    class Forgetful(eqx.Module):
        a: int
        b: int

        def __init__(self):
            self.a = 1

    message = (
        r"Field 'b' was not initialized\. "
        r"Forgetful\.__init__ finished without setting it"
    )
    with pytest.raises(eqx.ModuleError, match=message):
        Forgetful()


def test_unset_field_with_default_gets_default():
    class Defaulted(eqx.Module):
        a: int
        b: int = 5
        c: list = eqx.field(default_factory=list)

        def __init__(self):
            self.a = 1

    d = Defaulted()
    assert (d.a, d.b, d.c) == (1, 5, [])


def test_converter_runs_after_init():
    class Converted(eqx.Module):
        a: jax.Array = eqx.field(converter=jnp.asarray)
        b: float = eqx.field(default=1, converter=float)

    c = Converted([1.0, 2.0])
    assert isinstance(c.a, jax.Array)
    assert isinstance(c.b, float)

    class ConvertedCustom(eqx.Module):
        a: jax.Array = eqx.field(converter=jnp.asarray)

        def __init__(self):
            self.a = [3.0]

    assert isinstance(ConvertedCustom().a, jax.Array)


def test_converter_must_be_callable():
    with pytest.raises(TypeError, match="converter.*must be callable"):
        eqx.field(converter=3)


def test_check_init_runs_for_every_class_in_mro():
    order = []

    class Base(eqx.Module):
        a: int

        def __check_init__(self):
            order.append("Base")
            if self.a < 0:
                raise ValueError("a must be >= 0")

    class Child(Base):
        def __init__(self, a):
            self.a = a

        def __check_init__(self):
            order.append("Child")

    Child(1)
    assert order == ["Child", "Base"]
    with pytest.raises(ValueError, match="a must be >= 0"):
        Child(-1)


def test_check_init_sees_converted_values():
    seen = []

    class M(eqx.Module):
        a: float = eqx.field(converter=float)

        def __check_init__(self):
            seen.append(type(self.a))

    M(1)
    assert seen == [float]


def test_post_init_with_generated_init():
    class P(eqx.Module):
        a: int
        b: int = eqx.field(init=False)

        def __post_init__(self):
            self.b = 2 * self.a

    assert P(3).b == 6


def test_inheritance_of_fields_and_init():
    class Base(eqx.Module):
        a: int

        def __init__(self, a):
            self.a = a

    class Child(Base):
        pass

    assert Child(2).a == 2

    class Plain(eqx.Module):
        a: int

    class PlainChild(Plain):
        b: int

    assert PlainChild(1, 2).b == 2


def test_abstractmethod():
    class Abstract(eqx.Module):
        @abc.abstractmethod
        def f(self): ...

    class Concrete(Abstract):
        def f(self):
            return 1

    with pytest.raises(
        eqx.ModuleError, match=r"abstract methods f are not implemented"
    ):
        Abstract()
    assert Concrete().f() == 1


def test_static_array_warns():
    class S(eqx.Module):
        a: jax.Array = eqx.field(static=True)

    with pytest.warns(UserWarning, match="static field holding an array"):
        S(np.ones(2))


def test_equality_and_hash():
    assert Point(1.0, 2.0) == Point(1.0, 2.0)
    assert Point(1.0, 2.0) != Point(1.0, 3.0)
    assert hash(Point(1.0, 2.0)) == hash(Point(1.0, 2.0))
    assert Affine(2) == Affine(2)
    assert Affine(2) != Affine(3)
    with pytest.raises(TypeError):
        hash(Affine(2))


def test_jit_and_grad_through_a_module():
    a = Affine(3)
    x = jnp.arange(3.0)
    out = jax.jit(lambda m, x: m(x))(a, x)
    assert np.allclose(out, x)
    grads = jax.grad(lambda m: jnp.sum(m(x)))(a)
    assert type(grads) is Affine
    assert np.allclose(grads.weight, np.tile(x, (3, 1)))


def test_classvar_is_not_a_field():
    class C(eqx.Module):
        tag: ClassVar[str] = "c"
        a: int

    assert [f.name for f in dataclasses.fields(C)] == ["a"]
    assert jtu.tree_leaves(C(1)) == [1]


def test_function_default_is_not_wrapped_as_method():
    def square(x):
        return x * x

    class C(eqx.Module):
        fn: object = square

    assert C().fn is square
    assert C().fn(3) == 9


def test_repr_does_not_print_values():
    text = repr(Affine(2))
    assert "Affine(" in text
    assert "f32[2,2]" in text


def test_pickle_and_deepcopy_round_trip():
    import copy
    import pickle

    a = Affine(3)
    for b in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert type(b) is Affine and b == a
        with pytest.raises(eqx.FrozenFieldError):
            b.size = 4


def test_generic_module():
    from typing import Generic, TypeVar

    T = TypeVar("T")

    class Box(eqx.Module, Generic[T]):
        item: T

    assert Box[int](3).item == 3
