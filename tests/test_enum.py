"""`Enumeration`: members, comparison, `where`, `promote`, indexing, errors; and
the same behaviour as Equinox's (each differential test runs on both libraries)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")

# What a failing callback under `jax.jit` raises: JAX's error, or on the fast path
# of a call already compiled, a `ValueError`.
JAX_CALLBACK_ERRORS = (jax.errors.JaxRuntimeError, ValueError)


@pytest.fixture(params=["typedeqx", "equinox"])
def lib(request):
    return typedeqx if request.param == "typedeqx" else equinox


def _colours(lib):
    class Colour(lib.Enumeration):
        red = "It is red."
        blue = "It is blue."
        green = ""

    return Colour


def test_members_compare_as_jax_bools(lib):
    Colour = _colours(lib)
    same, different = Colour.red == Colour.red, Colour.red == Colour.blue
    assert isinstance(same, jax.Array) and same.dtype == jnp.bool_ and same.shape == ()
    assert bool(same) and not bool(different)
    assert bool(Colour.red != Colour.blue) and not bool(Colour.red != Colour.red)
    assert len(Colour) == 3


def test_comparison_under_jit_and_vmap(lib):
    Colour = _colours(lib)

    @jax.jit
    def is_red(c):
        return c == Colour.red

    assert bool(is_red(Colour.red)) and not bool(is_red(Colour.green))
    picked = jax.vmap(lambda p: Colour.where(p, Colour.red, Colour.blue))(
        jnp.array([True, False, True])
    )
    np.testing.assert_array_equal(picked == Colour.red, [True, False, True])


def test_item_round_trips_through_jit(lib):
    Colour = _colours(lib)
    out = jax.jit(lambda c: c)(Colour.blue)
    assert isinstance(out, Colour)
    assert Colour[out] == "It is blue."
    assert bool(out == Colour.blue)


def test_indexing_gives_the_message(lib):
    Colour = _colours(lib)
    assert Colour[Colour.red] == "It is red."
    assert Colour[Colour.green] == ""
    seen = []

    @jax.jit
    def f(c):
        seen.append(Colour[c])
        return c

    f(Colour.red)
    assert seen == ["traced"]


def test_repr_names_the_class_and_message(lib):
    Colour = _colours(lib)
    assert repr(Colour.red) == f"{__name__}.{Colour.__qualname__}<It is red.>"


def test_where(lib):
    Colour = _colours(lib)
    assert bool(Colour.where(jnp.array(True), Colour.red, Colour.blue) == Colour.red)
    assert bool(Colour.where(False, Colour.red, Colour.blue) == Colour.blue)
    chosen = jax.jit(Colour.where)(jnp.array(False), Colour.red, Colour.green)
    assert Colour[chosen] == ""
    # The same item twice is returned as is.
    assert Colour.where(jnp.array(True), Colour.red, Colour.red) is Colour.red


@pytest.mark.parametrize("pred", [jnp.array([True, False]), jnp.array(1)])
def test_where_needs_a_scalar_boolean(lib, pred):
    Colour = _colours(lib)
    with pytest.raises(ValueError):
        Colour.where(pred, Colour.red, Colour.blue)


def test_where_needs_members(lib):
    Colour, Other = _colours(lib), _colours(lib)
    with pytest.raises(ValueError, match="must be members"):
        Colour.where(jnp.array(True), Colour.red, Other.red)


def test_membership_by_isinstance(lib):
    Colour, Other = _colours(lib), _colours(lib)
    assert isinstance(Colour.red, Colour)
    assert not isinstance(Other.red, Colour)
    assert not isinstance("red", Colour)
    assert not isinstance(0, Colour)


def test_comparing_with_anything_else_is_a_value_error(lib):
    Colour, Other = _colours(lib), _colours(lib)
    with pytest.raises(ValueError):
        Colour.red == Other.red
    with pytest.raises(ValueError):
        Colour.red == 0
    with pytest.raises(ValueError):
        Colour.red != "red"


def test_lookup_errors(lib):
    Colour, Other = _colours(lib), _colours(lib)
    with pytest.raises(AttributeError):
        Colour.purple
    with pytest.raises(AttributeError):
        Colour.red.name  # as in Equinox: items have no `.name`
    with pytest.raises(ValueError):
        Colour[0]
    with pytest.raises(ValueError):
        Colour[Other.red]


def test_items_are_unhashable(lib):
    Colour = _colours(lib)
    with pytest.raises(TypeError):
        hash(Colour.red)


@pytest.mark.parametrize("reserved", ["where", "promote"])
def test_reserved_member_names(lib, reserved):
    with pytest.raises(ValueError, match=reserved):
        type(lib.Enumeration)("Bad", (lib.Enumeration,), {reserved: "x"})


def test_inheritance_and_promote(lib):
    Colour = _colours(lib)

    class More(Colour):
        purple = "It is purple."

    assert len(More) == 4
    assert More[More.red] == "It is red." and More[More.purple] == "It is purple."
    assert not isinstance(More.red, Colour)
    promoted = More.promote(Colour.blue)
    assert isinstance(promoted, More) and bool(promoted == More.blue)
    promoted = jax.jit(More.promote)(Colour.green)
    assert More[promoted] == ""
    with pytest.raises(ValueError):
        Colour.red == More.red
    with pytest.raises(ValueError):
        Colour.promote(More.red)  # only from parent to child
    with pytest.raises(ValueError):
        More.promote(More.red)
    with pytest.raises(ValueError):
        More.promote("red")


def test_promote_from_a_grandparent_with_diamond(lib):
    class A(lib.Enumeration):
        a = "A"

    class B(A):
        b = "B"

    class C(A):
        c = "C"

    class D(B, C):
        d = "D"

    assert len(D) == 4
    for parent, name in [(A, "a"), (B, "b"), (C, "c"), (C, "a")]:
        item = D.promote(getattr(parent, name))
        assert D[item] == parent[getattr(parent, name)]


def test_redefining_an_inherited_member_warns(lib):
    Colour = _colours(lib)
    with pytest.warns(UserWarning):

        class Changed(Colour):
            red = "Now something else."

    assert Changed[Changed.red] == "Now something else."
    assert len(Changed) == 3


def test_a_plain_mixin_adds_no_members(lib):
    class Mixin:
        def describe(self):
            return "mixed in"

    class Mixed(lib.Enumeration, Mixin):
        x = "x"

    assert len(Mixed) == 1 and Mixed[Mixed.x] == "x"


def test_docstring_lists_members(lib):
    Colour = _colours(lib)
    assert "`red`: It is red." in Colour.__doc__
    assert "`green`" in Colour.__doc__

    class Documented(lib.Enumeration):
        """Mine."""

        x = "x"

    assert Documented.__doc__ == "Mine."


def test_error_if_method(lib):
    Colour = _colours(lib)
    x = jnp.array(1.0)
    assert Colour.blue.error_if(x, jnp.array(False)) is not None
    with pytest.raises(lib.EquinoxRuntimeError, match="It is blue."):
        Colour.blue.error_if(x, jnp.array(True))
    with pytest.raises(JAX_CALLBACK_ERRORS, match="It is blue."):
        jitted = jax.jit(lambda y, p: Colour.blue.error_if(y, p))
        jax.block_until_ready(jitted(x, jnp.array(True)))


def test_error_if_picks_the_message_at_run_time():
    Colour = _colours(typedeqx)

    @jax.jit
    def check(x, c):
        return c.error_if(x, c != Colour.green)

    x = jnp.array(2.0)
    assert check(x, Colour.green) == 2.0
    with pytest.raises(JAX_CALLBACK_ERRORS, match="It is red."):
        jax.block_until_ready(check(x, Colour.red))
    with pytest.raises(JAX_CALLBACK_ERRORS, match="It is blue."):
        jax.block_until_ready(check(x, Colour.blue))


def test_error_if_with_an_enumeration_predicate():
    Colour = _colours(typedeqx)

    def check(x, c):
        return typedeqx.error_if(x, c == Colour.red, "red is not allowed")

    assert check(jnp.array(1.0), Colour.blue) == 1.0
    with pytest.raises(typedeqx.EquinoxRuntimeError, match="red is not allowed"):
        check(jnp.array(1.0), Colour.red)
    with pytest.raises(JAX_CALLBACK_ERRORS, match="red is not allowed"):
        jax.block_until_ready(jax.jit(check)(jnp.array(1.0), Colour.red))


def test_is_traced():
    Colour = _colours(typedeqx)
    assert not Colour.red.is_traced()
    seen = []
    jax.jit(lambda c: seen.append(c.is_traced()) or c)(Colour.red)
    assert seen == [True]


def test_batched_item_indexes_to_all_messages():
    Colour = _colours(typedeqx)
    ours = jax.vmap(lambda p: Colour.where(p, Colour.red, Colour.blue))(
        jnp.array([True, False])
    )
    assert Colour[ours] == str(np.array(["It is red.", "It is blue."]))


def test_a_member_must_be_a_string():
    with pytest.raises(TypeError, match="must be assigned its message as a string"):

        class Bad(typedeqx.Enumeration):
            count = 3


def test_iterating_an_enumeration_is_a_value_error(lib):
    Colour = _colours(lib)
    with pytest.raises(ValueError):
        list(Colour)
    with pytest.raises(ValueError):
        Colour["red"]


def test_iteration_and_lookup_by_name_say_what_to_do_instead():
    Colour = _colours(typedeqx)
    message = (
        "Cannot iterate over enumeration _colours.<locals>.Colour: an enumeration is "
        "not a sequence. Its members are ['red', 'blue', 'green']; refer to one as "
        "`_colours.<locals>.Colour.<member>`."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        for _ in Colour:
            pass
    with pytest.raises(
        ValueError, match=re.escape("use `getattr(_colours.<locals>.Colour, 'red')`")
    ):
        Colour["red"]
