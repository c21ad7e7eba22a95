"""Abstract members compared with Equinox."""

from typing import Any, ClassVar

import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")


def _libs():
    return [eqx, eqx_ref]


@pytest.mark.parametrize("lib", _libs())
def test_abstract_var_provided_by_another_base(lib):
    class Needs(lib.Module):
        x: lib.AbstractVar[int]

    class Gives(lib.Module):
        x: int = 3

    class Both(Needs, Gives):
        pass

    class BothOtherOrder(Gives, Needs):
        pass

    assert BothOtherOrder.__abstractvars__ == frozenset()
    assert BothOtherOrder().x == 3
    if lib is eqx:
        # Equinox still counts `x` missing when the declaring base comes first in
        # the MRO, although `Both` has the field; typedeqx resolves over the MRO.
        assert Both.__abstractvars__ == frozenset()
        assert Both().x == 3


@pytest.mark.parametrize("lib", _libs())
def test_abstract_sets(lib):
    class A(lib.Module):
        x: lib.AbstractVar[int]
        y: lib.AbstractClassVar[int]

    assert A.__abstractvars__ == frozenset({"x"})
    assert A.__abstractclassvars__ == frozenset({"y"})
    with pytest.raises(TypeError):
        A()

    class Redeclared(A):
        y: lib.AbstractVar[int]

    # Still a class-variable requirement.
    assert Redeclared.__abstractclassvars__ == frozenset({"y"})
    assert Redeclared.__abstractvars__ == frozenset({"x"})

    class ByField(A):
        x: int
        y: int

    assert ByField.__abstractclassvars__ == frozenset()
    assert ByField(1, 2).y == 2

    class ByClassVar(A):
        x: int = 1
        y: ClassVar[int] = 4

    assert ByClassVar().y == 4


@pytest.mark.parametrize("lib", _libs())
def test_bare_marker_and_value_are_type_errors(lib):
    with pytest.raises(TypeError):

        class Bare(lib.Module):
            x: lib.AbstractVar  # type: ignore[type-arg]

    with pytest.raises(TypeError):

        class BareClass(lib.Module):
            x: lib.AbstractClassVar  # type: ignore[type-arg]

    with pytest.raises(TypeError):

        class Valued(lib.Module):
            x: lib.AbstractVar[int] = 1

    with pytest.raises(TypeError):

        class ValuedClass(lib.Module):
            x: lib.AbstractClassVar[int] = 1


def test_string_annotations_keep_working():
    # Equinox refuses stringified markers (`NotImplementedError`); typedeqx reads them.
    namespace: dict[str, Any] = {"__annotations__": {"x": "AbstractVar[int]"}}
    Abstract = type(eqx.Module)("Abstract", (eqx.Module,), namespace)
    assert Abstract.__abstractvars__ == frozenset({"x"})
    with pytest.raises(TypeError):
        bare = {"__annotations__": {"x": "AbstractVar"}}
        type(eqx.Module)("Bare", (eqx.Module,), bare)
