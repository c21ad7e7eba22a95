"""AbstractVar and AbstractClassVar."""

from __future__ import annotations

from typing import ClassVar

import pytest

import typedeqx as eqx


class Shape(eqx.Module):
    sides: eqx.AbstractVar[int]
    name: eqx.AbstractClassVar[str]

    def describe(self) -> str:
        return f"{self.name} with {self.sides} sides"


def test_unresolved_members_are_named():
    with pytest.raises(
        eqx.ModuleError,
        match=r"Can't instantiate abstract class Shape with abstract class "
        r"attributes \{'name'\} and abstract attributes \{'sides'\}: it does not "
        r"provide name \(AbstractClassVar\), sides \(AbstractVar\)",
    ):
        Shape()


def test_resolved_by_field_and_classvar():
    class Triangle(Shape):
        sides: int
        name: ClassVar[str] = "triangle"

    assert Triangle(3).describe() == "triangle with 3 sides"


def test_resolved_by_class_attribute_and_property():
    class Square(Shape):
        name = "square"

        @property
        def sides(self) -> int:
            return 4

    assert Square().describe() == "square with 4 sides"


def test_partly_resolved_stays_abstract():
    class Half(Shape):
        sides: int

    with pytest.raises(
        eqx.ModuleError, match=r"does not provide name \(AbstractClassVar\)"
    ):
        Half(3)


def test_abstract_class_var_may_be_resolved_by_a_field():
    # As in Equinox: any annotation in a subclass provides the member.
    class ByField(Shape):
        sides: int
        name: str

    assert ByField.__abstractclassvars__ == frozenset()


def test_abstract_var_is_not_a_field_of_the_abstract_class():
    import dataclasses

    class Abstract(eqx.Module):
        a: eqx.AbstractVar[int]
        b: int

    assert [f.name for f in dataclasses.fields(Abstract)] == ["b"]
