"""jaxtyping's private names, as `typedeqx._contracts._jaxtyping` relies on them.

Every assumption the adapter makes about jaxtyping internals is pinned here, so an
upgrade that changes one fails in this file, with the name that moved, rather than
as a wrong verdict somewhere in the checker. The installed version must also lie in
the range `pyproject.toml` declares (the range these tests were run on).
"""

import dataclasses
import importlib.metadata
import re
import tomllib
from pathlib import Path

import jax.numpy as jnp
import pytest
from beartype.door import is_bearable
from jaxtyping import Array, Float, Key, PyTree, Shaped
from packaging.requirements import Requirement

from typedeqx._contracts import _jaxtyping as adapter
from typedeqx._contracts._jaxtyping import Dim

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_private_names_exist():
    from jaxtyping import _array_types, _storage

    for name in (
        "_anonymous_dim",
        "_anonymous_variadic_dim",
        "_any_dtype",
        "_FixedDim",
        "_NamedDim",
        "_NamedVariadicDim",
        "_SymbolicDim",
    ):
        assert hasattr(_array_types, name), f"jaxtyping._array_types.{name} is gone"
    for name in ("push_shape_memo", "get_shape_memo", "pop_shape_memo"):
        assert hasattr(_storage, name), f"jaxtyping._storage.{name} is gone"


def test_dimension_classes_carry_the_fields_we_read():
    from jaxtyping import _array_types as at

    fields = {
        at._FixedDim: {"size", "broadcastable"},
        at._NamedDim: {"name", "broadcastable", "treepath"},
        at._NamedVariadicDim: {"name", "broadcastable"},
        at._SymbolicDim: {"elem", "broadcastable"},
    }
    for cls, wanted in fields.items():
        have = {f.name for f in dataclasses.fields(cls)}
        assert wanted <= have, f"{cls.__name__} lost {wanted - have}"


def test_a_dimension_string_parses_as_we_assume():
    parsed = adapter.parse_array(Float[Array, "a 3 _ *b #c n+1"])
    assert parsed.dims == (
        Dim("named", name="a"),
        Dim("fixed", size=3),
        Dim("any"),
        Dim("variadic", name="b"),
        Dim("named", True, name="c"),
        Dim("symbolic", name="n+1"),
    )
    assert parsed.variadic == 3
    assert parsed.family == "Float"
    assert parsed.dtypes is not None and "float32" in parsed.dtypes
    assert parsed.array_type is Array
    assert parsed.dim_str == "a 3 _ *b #c n+1"


def test_other_dimension_forms():
    assert adapter.parse_array(Float[Array, "..."]).dims == (Dim("any variadic"),)
    assert adapter.parse_array(Float[Array, "*#b"]).dims == (
        Dim("variadic", True, name="b"),
    )
    treepath = adapter.parse_array(Float[Array, "?n"]).dims
    assert treepath == (Dim("named", name="n", treepath=True),)
    assert adapter.parse_array(Float[Array, ""]).variadic is None


def test_any_dtype_and_dtype_patterns():
    assert adapter.parse_array(Shaped[Array, "n"]).dtypes is None
    key_dtypes = adapter.parse_array(Key[Array, ""]).dtypes
    assert key_dtypes and all(isinstance(d, (str, re.Pattern)) for d in key_dtypes)


def test_array_and_pytree_recognition():
    assert adapter.is_array(Float[Array, "n"])
    assert not adapter.is_array(int) and not adapter.is_array(PyTree[int])
    assert adapter.is_pytree(PyTree) and adapter.is_pytree(PyTree[int, "T"])
    assert adapter.pytree_parts(PyTree[int, "T"]) == (int, "T")
    assert adapter.pytree_parts(PyTree[int]) == (int, None)


def test_the_memo_is_seeded_and_read_back():
    hint = Float[Array, "n m"]
    bound = adapter.check_under_memo(
        lambda: is_bearable(jnp.ones((2, 3)), hint), {}, {"n": 2}, {}, {}
    )
    assert bound is not None and bound.sizes == {"n": 2, "m": 3}
    seeded_mismatch = adapter.check_under_memo(
        lambda: is_bearable(jnp.ones((2, 3)), hint), {}, {"n": 5}, {}, {}
    )
    assert seeded_mismatch is None


def test_variadic_and_structure_bindings_come_back():
    hint = PyTree[Float[Array, "*batch"], "T"]
    bound = adapter.check_under_memo(
        lambda: is_bearable([jnp.ones((2, 3))], hint), {}, {}, {}, {}
    )
    assert bound is not None
    assert bound.shapes == {"batch": (False, (2, 3))}
    assert list(bound.trees) == ["T"]


def test_names_starting_with_two_tildes_are_internal():
    from jaxtyping._storage import shape_str

    # jaxtyping hides its bookkeeping names (`~~delete~~...`) from its own messages.
    text = shape_str(({"~~delete~~(T) n": 1, "n": 2}, {}, {}, {}))
    assert "n=2" in text and "~~" not in text
    hint = Float[Array, "n"]
    bound = adapter.check_under_memo(
        lambda: is_bearable(jnp.ones(2), hint), {}, {"~~delete~~(T) m": 1}, {}, {}
    )
    assert bound is not None and bound.sizes == {"n": 2}


def test_the_memo_stack_is_left_as_found():
    from jaxtyping import _storage

    before = len(getattr(_storage._shape_storage, "memo_stack", []))
    with pytest.raises(RuntimeError):
        adapter.check_under_memo(_raise, {}, {}, {}, {})
    assert len(_storage._shape_storage.memo_stack) == before


def _raise() -> bool:
    raise RuntimeError("inside the check")


def test_installed_version_is_in_the_declared_range():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    (declared,) = [
        Requirement(r) for r in project["dependencies"] if r.startswith("jaxtyping")
    ]
    upper = [s for s in declared.specifier if s.operator in ("<", "<=")]
    assert upper, f"{declared} needs an upper bound (the versions verified here)"
    installed = importlib.metadata.version("jaxtyping")
    assert declared.specifier.contains(installed), (installed, str(declared))
