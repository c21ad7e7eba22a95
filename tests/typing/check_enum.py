"""Enumerations: members read as items of their class, comparisons as arrays."""

from typing import assert_type

import jax.numpy as jnp
from jax import Array

import typedeqx as eqx


class Colour(eqx.Enumeration):
    red = "It is red."
    blue = "It is blue."


# As with Equinox, extending an enumeration needs an ignore: the checkers see an
# `enum.Enum`, which may not be extended.
class More(Colour):  # type: ignore[misc]  # pyright: ignore
    green = "It is green."


def compare(a: Colour, b: Colour, c: object) -> None:
    assert_type(a == b, Array)
    assert_type(a != b, Array)
    assert_type(isinstance(c, Colour), bool)


# mypy reads `Colour[...]` as lookup by name, so indexing is not asserted here.
assert_type(len(Colour), int)
assert_type(Colour.where(jnp.array(True), Colour.red, Colour.blue), Colour)
assert_type(More.promote(Colour.red), More)
assert_type(Colour.red.error_if(jnp.ones(2), jnp.array(False)), Array)
assert_type(Colour.red.is_traced(), bool)
