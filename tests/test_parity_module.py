"""Module behaviour compared with Equinox: the same class body run through both."""

import dataclasses
import inspect
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")

_T = TypeVar("_T")


def _both(make: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Build the same class (or value) with typedeqx and with Equinox."""
    return make(eqx), make(eqx_ref)


def _raised(fn: Callable[[], Any]) -> type[BaseException] | None:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is the result
        return type(e)
    return None


def test_bound_method_stored_in_init_is_a_value_error():
    def make(lib: Any) -> Any:
        class Holder(lib.Module):
            f: Callable[[], int]

            def __init__(self):
                self.f = self.g

            def g(self) -> int:
                return 1

        return Holder

    ours, ref = _both(make)
    with pytest.raises(ValueError):
        ref()
    with pytest.raises(ValueError, match=r"Holder.f = self.g.*contains itself"):
        ours()


def test_plain_base_init_runs_and_converters_apply():
    class Doubling:
        def __init__(self, x):
            self.x = x * 2

    def make(lib: Any) -> Any:
        class Child(Doubling, lib.Module):
            x: int = lib.field(converter=lambda v: v + 1)

        return Child

    ours, ref = _both(make)
    assert ours(3).x == ref(3).x == 7


@pytest.mark.parametrize("kind", ["property", "class attribute"])
def test_subclass_replacing_a_field_follows_the_subclass(kind):
    # Equinox keeps `x` a field here (and then fails to build, or ignores the
    # override); typedeqx follows the subclass. Compared with Equinox on the class
    # written directly without the field, which is what the subclass says.
    def make(lib: Any, inherit: bool) -> Any:
        class Base(lib.Module):
            x: int
            y: int = 2

        if kind == "property":

            class Override(Base if inherit else lib.Module):
                if not inherit:
                    y: int = 2

                @property
                def x(self) -> int:
                    return 5

        else:

            class Override(Base if inherit else lib.Module):  # type: ignore[no-redef]
                if not inherit:
                    y: int = 2
                x = 5

        return Override

    ours, direct = make(eqx, True), make(eqx_ref, False)
    assert [f.name for f in dataclasses.fields(ours)] == ["y"]
    assert [f.name for f in dataclasses.fields(direct)] == ["y"]
    assert ours().x == direct().x == 5
    assert jtu.tree_leaves(ours(3)) == jtu.tree_leaves(direct(3)) == [3]


def test_slots_field():
    def make(lib: Any) -> Any:
        class Slotted(lib.Module):
            __slots__ = ("x",)
            x: int

        return Slotted

    ours, ref = _both(make)
    assert ours(1).x == ref(1).x == 1
    # Equinox flattens a slot field to nothing (its leaves are `[]`); typedeqx keeps
    # it a leaf, so it round-trips.
    leaves, treedef = jtu.tree_flatten(ours(1))
    assert leaves == [1]
    assert jtu.tree_unflatten(treedef, [4]).x == 4


def test_undeclared_attribute_is_an_attribute_error():
    def make(lib: Any) -> Any:
        class Loose(lib.Module):
            def __init__(self):
                self.y = 1

        return Loose

    ours, ref = _both(make)
    with pytest.raises(AttributeError):
        ref()
    with pytest.raises(AttributeError, match="not a field"):
        ours()
    with pytest.raises(eqx.ModuleError):
        ours()


def test_unset_field_is_a_type_error():
    def make(lib: Any) -> Any:
        class Unset(lib.Module):
            x: int

            def __init__(self):
                pass

        return Unset

    ours, ref = _both(make)
    with pytest.raises(TypeError, match=r"Field 'x' was not initialized\."):
        ref()
    with pytest.raises(TypeError, match=r"Field 'x' was not initialized\."):
        ours()


def test_bound_methods_are_modules_equal_by_value():
    def make(lib: Any) -> Any:
        class B(lib.Module):
            a: int = 1

            def f(self) -> int:
                return self.a

        return B

    ours, ref = _both(make)
    assert isinstance(ours().f, eqx.Module) and isinstance(ref().f, eqx_ref.Module)
    assert (ours().f == ours().f) == (ref().f == ref().f) == True  # noqa: E712
    assert hash(ours().f) == hash(ours().f)
    assert (ours(1).f == ours(2).f) == (ref(1).f == ref(2).f) == False  # noqa: E712
    assert jtu.tree_leaves(ours(3).f) == jtu.tree_leaves(ref(3).f) == [3]


def test_signature_docstring_and_converter_annotation():
    def convert(v: float) -> jax.Array:
        return jnp.asarray(v)

    def make(lib: Any) -> Any:
        class Base(lib.Module):
            def __init__(self):
                """Base docstring."""

        class Conv(lib.Module):
            a: jax.Array = lib.field(converter=convert)
            b: int = 3

        return Base, Conv

    (ours_base, ours), (ref_base, ref) = _both(make)
    assert str(inspect.signature(ours)) == str(inspect.signature(ref))
    assert inspect.signature(ours).parameters["a"].annotation is float
    assert ours.__init__.__doc__ == ref.__init__.__doc__
    assert ours.__init__.__annotations__ == ref.__init__.__annotations__
    assert str(inspect.signature(ours_base)) == str(inspect.signature(ref_base))


def test_generated_init_keeps_parent_docstring():
    def make(lib: Any) -> Any:
        class Child(lib.Module):
            x: int

        return Child

    ours, ref = _both(make)
    assert ours.__init__.__doc__ == ref.__init__.__doc__


def test_orig_class_is_set():
    def make(lib: Any) -> Any:
        class G(lib.Module, Generic[_T]):
            pass

        return G

    ours, ref = _both(make)
    assert ours[int]().__orig_class__ == ours[int]
    assert ref[int]().__orig_class__ == ref[int]


def test_static_field_is_a_deprecated_alias():
    for lib in (eqx, eqx_ref):
        with pytest.warns(UserWarning, match="static_field"):

            class S(lib.Module):
                x: int = lib.static_field(default=1)

        assert jtu.tree_leaves(S()) == [] and S().x == 1


def _categories(fn: Callable[[], Any]) -> list[type[Warning]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w.category for w in caught]


def test_init_and_post_init_warns():
    def make(lib: Any) -> None:
        class Both(lib.Module):
            x: int

            def __init__(self):
                self.x = 1

            def __post_init__(self):
                pass

    assert _categories(lambda: make(eqx)) == _categories(lambda: make(eqx_ref))
    assert _categories(lambda: make(eqx)) == [UserWarning]


def test_jax_transformed_callable_warns():
    def make(lib: Any) -> Any:
        class Inner(lib.Module):
            w: jax.Array

            def __call__(self, x):
                return self.w * x

        class Outer(lib.Module):
            fn: Callable[..., Any]

            def __init__(self):
                self.fn = jax.jit(Inner(jnp.ones(2)))

        return Outer

    ours, ref = _both(make)
    assert _categories(ours) == _categories(ref) == [UserWarning]


def test_nested_array_in_static_field_warns():
    def make(lib: Any) -> Any:
        class S(lib.Module):
            a: Any = lib.field(static=True)

        return S

    ours, ref = _both(make)
    value = {"deep": [jnp.ones(2)]}
    assert _categories(lambda: ours(value)) == _categories(lambda: ref(value))
    assert _categories(lambda: ours(value)) == [UserWarning]
    assert _categories(lambda: ours((1, "a"))) == []


def test_partial():
    def f(a, b, *, c):
        return a * b + c

    ours = eqx.Partial(f, jnp.ones(2), c=1.0)
    ref = eqx_ref.Partial(f, jnp.ones(2), c=1.0)
    assert eqx.tree_equal(ours(jnp.full(2, 3.0)), ref(jnp.full(2, 3.0)))
    assert len(jtu.tree_leaves(ours)) == len(jtu.tree_leaves(ref)) == 3
    assert isinstance(ours, eqx.Module)


def test_module_update_wrapper():
    def make(lib: Any) -> Any:
        class Wrapper(lib.Module):
            fn: Callable[..., Any]

            def __call__(self, *args):
                return self.fn(*args)

            @property
            def __wrapped__(self):
                return self.fn

        class NoProperty(lib.Module):
            fn: Callable[..., Any]

        return Wrapper, NoProperty

    def target(x):
        """Target docs."""
        return x + 1

    (ours, ours_bad), (ref, ref_bad) = _both(make)
    wrapped = eqx.module_update_wrapper(ours(target))
    expected = eqx_ref.module_update_wrapper(ref(target))
    for name in ("__name__", "__qualname__", "__doc__", "__module__"):
        assert getattr(wrapped, name) == getattr(expected, name)
    # The attributes travel with the PyTree.
    leaves, treedef = jtu.tree_flatten(wrapped)
    assert jtu.tree_unflatten(treedef, leaves).__name__ == "target"
    assert eqx.filter_jit(lambda w: w)(wrapped).__doc__ == "Target docs."
    with pytest.raises(ValueError):
        eqx_ref.module_update_wrapper(ref_bad(target))
    with pytest.raises(ValueError, match="__wrapped__"):
        eqx.module_update_wrapper(ours_bad(target))


@pytest.mark.parametrize("strict", [True, False])
def test_strict_class_keyword_is_accepted(strict):
    def make(lib: Any) -> Any:
        class Base(lib.Module, strict=strict):
            weight: Any

            def __call__(self, x):
                return self.weight * x

        class Child(Base, strict=strict):
            bias: Any = 0.0

        return Child(2.0, 1.0)

    ours, ref = _both(make)
    assert (
        jax.tree_util.tree_leaves(ours) == jax.tree_util.tree_leaves(ref) == [2.0, 1.0]
    )
    assert ours(3.0) == ref(3.0) == 6.0


@pytest.mark.parametrize(
    "keyword",
    [
        {"is_abstract": True},
        {"strict": None},
        {"strict": "force_abstact"},  # Equinox 0.13's spelling of the keyword
    ],
    ids=["is_abstract", "strict=None", "StrictConfig"],
)
def test_class_keywords_that_make_a_class_abstract(keyword):
    def make(lib: Any) -> Any:
        if keyword.get("strict") == "force_abstact":
            kwargs = {"strict": lib.StrictConfig(force_abstact=True)}
        else:
            kwargs = keyword

        class Base(lib.Module, **kwargs):
            x: int = 1

        class Concrete(Base):
            pass

        return Base, Concrete

    for Base, Concrete in _both(make):
        with pytest.raises(TypeError, match="Cannot instantiate abstract"):
            Base()
        assert Concrete().x == 1


def test_strict_config_options():
    assert eqx.StrictConfig() is eqx_ref.StrictConfig() is False
    assert eqx.StrictConfig(force_abstact=True) is eqx_ref.StrictConfig(
        force_abstact=True
    )
    assert eqx.StrictConfig(allow_method_override=True) is False  # accepted, ignored
    # Deliberately different: Equinox misspells its keyword, so the documented
    # `force_abstract=True` is silently ignored there; typedeqx honours it.
    assert eqx_ref.StrictConfig(force_abstract=True) is False
    assert eqx.StrictConfig(force_abstract=True) is None


def test_class_keywords_pass_through_to_init_subclass():
    def make(lib: Any) -> Any:
        seen = []

        class Base(lib.Module):
            def __init_subclass__(cls, tag: str, **kwargs: Any) -> None:
                super().__init_subclass__(**kwargs)
                seen.append(tag)

        class Child(Base, tag="a", strict=True):
            pass

        return seen

    assert _both(make) == (["a"], ["a"])
