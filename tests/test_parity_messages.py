"""Equinox's phrases in typedeqx's messages: each mistake is made with both libraries,
and the same `match=` (a phrase users' tests, and Equinox's own, look for) finds
Equinox's message and typedeqx's. typedeqx's message goes on to say more (the class,
the field, the fix); the other tests check that part."""

import io
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")
LIBS = pytest.mark.parametrize("lib", [eqx, eqx_ref], ids=["typedeqx", "equinox"])


@LIBS
def test_assigning_a_method_in_init(lib):
    class A(lib.Module):
        foo: Callable[[], Any]

        def __init__(self):
            self.foo = self.bar

        def bar(self):
            return 1

    with pytest.raises(ValueError, match="Cannot assign methods in __init__"):
        A()


@LIBS
def test_a_field_left_unset(lib):
    class A(lib.Module):
        x: int = lib.field(init=False)

    with pytest.raises(TypeError, match=r"Field 'x' was not initialized\."):
        A()


@LIBS
def test_unresolved_abstract_members(lib):
    class HasVar(lib.Module):
        x: lib.AbstractVar[int]

    class HasClassVar(lib.Module):
        y: lib.AbstractClassVar[int]

    with pytest.raises(TypeError, match="with abstract attributes"):
        HasVar()
    with pytest.raises(TypeError, match="abstract class attributes"):
        HasClassVar()


@LIBS
def test_abstract_members_declared_wrongly(lib):
    with pytest.raises(TypeError, match="unsubscripted"):

        class Bare(lib.Module):
            x: lib.AbstractVar  # type: ignore[type-arg]

    with pytest.raises(TypeError, match="cannot have value"):

        class Valued(lib.Module):
            x: lib.AbstractVar[int] = 1


@LIBS
def test_a_class_declared_abstract(lib):
    class Base(lib.Module, is_abstract=True):
        pass

    class Concrete(Base):
        pass

    with pytest.raises(
        TypeError, match=r"Cannot instantiate abstract `equinox\.Module`"
    ):
        Base()
    Concrete()


@LIBS
def test_too_many_traces(lib):
    @jax.jit
    @lib.debug.assert_max_traces(max_traces=1)
    def f(x):
        return x + 1

    f(1)
    with pytest.raises(RuntimeError, match="can only be traced 1 times"):
        f(jnp.ones(2))


@LIBS
def test_shared_nodes_that_differ(lib, getkey):
    layers = (lib.nn.Linear(2, 3, key=getkey()), lib.nn.Linear(3, 2, key=getkey()))
    with pytest.raises(ValueError, match="Every node being shared together"):
        lib.nn.Shared(layers, lambda p: p[1].weight, lambda p: p[0].weight)


@LIBS
def test_grad_without_a_positional_argument(lib):
    grad = lib.filter_grad(lambda x: jnp.sum(x))
    with pytest.raises(TypeError, match="Functions wrapped with"):
        grad(x=jnp.ones(2))
    with pytest.raises(TypeError, match="Functions wrapped with"):
        grad()


@LIBS
def test_a_filter_spec_that_fails(lib):
    def refuse(f, x):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError, match="Error at leaf with path"):
        lib.tree_serialise_leaves(io.BytesIO(), (jnp.ones(2),), filter_spec=refuse)


def _warned(make: Callable[[], Any]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return list(caught)


def _warns(make: Callable[[], Any], category: type[Warning], phrase: str) -> None:
    # Equinox warns twice for a transformed callable (as an argument of the generated
    # `__init__`, and on assignment); typedeqx once. Each warning says the phrase.
    caught = _warned(make)
    assert caught
    for w in caught:
        assert w.category is category
        assert phrase in " ".join(str(w.message).split())


@LIBS
def test_init_together_with_post_init(lib):
    def make():
        class A(lib.Module):
            x: int

            def __init__(self):
                self.x = 1

            def __post_init__(self):
                pass

    _warns(make, UserWarning, "`__init__` method and a `__post_init__`")


@LIBS
def test_jax_transformed_callable_in_a_field(lib, getkey):
    class A(lib.Module):
        linear: Callable[..., Any]

    linear = jax.vmap(lib.nn.Linear(2, 2, key=getkey()))
    _warns(
        lambda: A(linear),
        UserWarning,
        "Possibly assigning a JAX-transformed callable as an attribute",
    )


@LIBS
def test_array_in_a_static_field(lib):
    class A(lib.Module):
        a: tuple[Any, ...] = lib.field(static=True)

    _warns(
        lambda: A((jnp.ones(3),)), UserWarning, "A JAX array is being set as static!"
    )


def test_the_phrases_lead_a_fuller_diagnosis():
    """typedeqx's message keeps its diagnosis after Equinox's phrase."""

    class Forgetful(eqx.Module):
        a: int
        b: int

        def __init__(self):
            self.a = 1

    with pytest.raises(eqx.ModuleError) as info:
        Forgetful()
    assert str(info.value) == (
        "Field 'b' was not initialized. Forgetful.__init__ finished without setting "
        "it: assign `self.b = ...` in __init__ or give the field a default."
    )

    class Abstract(eqx.Module):
        x: eqx.AbstractVar[int]

    with pytest.raises(eqx.ModuleError) as info:
        Abstract()
    assert str(info.value) == (
        "Can't instantiate abstract class Abstract with abstract attributes {'x'}: "
        "it does not provide x (AbstractVar). Define them in a subclass as fields, "
        "class attributes or properties, and instantiate that subclass."
    )


@LIBS
@pytest.mark.parametrize(
    "build, bad",
    [
        (lambda lib, k: lib.nn.Conv2d(3, 4, 3, key=k), jnp.ones((2, 3, 8, 8))),
        (lambda lib, k: lib.nn.LayerNorm(5), jnp.ones((4,))),
    ],
    ids=["conv-rank", "layernorm-shape"],
)
def test_a_wrong_input_shape_is_caught_as_a_value_error(lib, build, bad):
    # Equinox raises ValueError for these; typedeqx's ShapeError is one too, so an
    # `except ValueError:` written for Equinox still catches it.
    layer = build(lib, jax.random.PRNGKey(0))
    with pytest.raises(ValueError):
        layer(bad)
