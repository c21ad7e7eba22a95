"""The one place that touches jaxtyping's private names.

We compile jaxtyping annotations ourselves, from the dimension string jaxtyping has
already parsed, and fall back to jaxtyping's own `isinstance` (under a shape memo
seeded with our bindings) for the rare forms we do not compile. Both rely on
internals: the parsed-dimension classes of `jaxtyping._array_types`, the memo stack
of `jaxtyping._storage`, `_SymbolicDim.elem`, and the `"~~"` prefix of the names
jaxtyping binds for its own use. This module translates them into plain values
(`Dim`, `ParsedArray`, `ForeignBindings`); `tests/test_contracts_jaxtyping.py` fails
loudly when jaxtyping changes any of them, and `pyproject.toml` pins the range of
jaxtyping versions they were verified on.
"""

import dataclasses
import re
import typing
from collections.abc import Callable
from typing import Any

from jaxtyping import AbstractArray, AnnotationError, PyTree
from jaxtyping._array_types import (
    _anonymous_dim,
    _anonymous_variadic_dim,
    _any_dtype,
    _FixedDim,
    _NamedDim,
    _NamedVariadicDim,
    _SymbolicDim,
)
from jaxtyping._storage import get_shape_memo, pop_shape_memo, push_shape_memo

__all__ = [
    "Dim",
    "ForeignBindings",
    "ParsedArray",
    "check_under_memo",
    "is_array",
    "is_pytree",
    "parse_array",
    "pytree_parts",
]

# Names jaxtyping binds in its memo for its own bookkeeping start with this.
_INTERNAL_PREFIX = "~~"


@dataclasses.dataclass(frozen=True)
class Dim:
    """One axis of a dimension string, in our own terms.

    `kind` is `"any"` (`_`), `"fixed"` (`3`), `"named"` (`n`), `"symbolic"`
    (`n+1`, whose text is `name`), `"variadic"` (`*batch`) or `"any variadic"`
    (`...`). `treepath` marks a `?name` dimension of a structured PyTree.
    """

    kind: str
    broadcastable: bool = False
    size: int = 0
    name: str = ""
    treepath: bool = False


@dataclasses.dataclass(frozen=True)
class ParsedArray:
    """A jaxtyping array annotation such as `Float[Array, "batch n+1"]`, parsed.

    `family` is the dtype class's name (`"Float"`), `dtypes` the dtype names (or
    compiled regular expressions over names) it accepts (`None`: any), `variadic`
    the index of the variadic axis in `dims`.
    """

    family: str
    dtypes: tuple[str | re.Pattern[str], ...] | None
    dims: tuple[Dim, ...]
    variadic: int | None
    array_type: Any
    dim_str: str


def is_array(hint: Any) -> bool:
    """Whether `hint` is a jaxtyping array annotation: `Float[Array, "n"]`."""
    return isinstance(hint, type) and issubclass(hint, AbstractArray)


def is_pytree(hint: Any) -> bool:
    """Whether `hint` is `PyTree` or `PyTree[...]`."""
    return isinstance(hint, type) and issubclass(hint, PyTree)


def pytree_parts(hint: Any) -> tuple[Any, str | None]:
    """The leaf annotation and the structure name of `PyTree[leaf, "T"]`."""
    return hint.leaftype, hint.structure


def _dim(dim: Any) -> Dim:
    if dim is _anonymous_dim:
        return Dim("any")
    if dim is _anonymous_variadic_dim:
        return Dim("any variadic")
    kind = type(dim)
    if kind is _FixedDim:
        return Dim("fixed", dim.broadcastable, size=dim.size)
    if kind is _NamedDim:
        return Dim("named", dim.broadcastable, name=dim.name, treepath=dim.treepath)
    if kind is _NamedVariadicDim:
        return Dim("variadic", dim.broadcastable, name=dim.name)
    if kind is _SymbolicDim:
        return Dim("symbolic", dim.broadcastable, name=dim.elem)
    raise AnnotationError(f"typedeqx does not understand the dimension {dim!r}.")


def parse_array(annotation: Any) -> ParsedArray:
    """Read what jaxtyping parsed from an array annotation."""
    dtypes = annotation.dtypes
    return ParsedArray(
        family=annotation.dtype.__name__,
        dtypes=None if dtypes is _any_dtype else tuple(dtypes),
        dims=tuple(_dim(d) for d in annotation.dims),
        variadic=annotation.index_variadic,
        array_type=annotation.array_type,
        dim_str=annotation.dim_str,
    )


@dataclasses.dataclass
class ForeignBindings:
    """What jaxtyping's own check bound: sizes, variadic shapes (as
    `(broadcastable, shape)`) and tree structures, without its internal names."""

    sizes: dict[str, int]
    shapes: dict[str, tuple[bool, tuple[int, ...]]]
    trees: dict[str, Any]


def check_under_memo(
    check: Callable[[], bool],
    arguments: dict[str, Any],
    sizes: dict[str, int],
    shapes: dict[str, tuple[bool, tuple[int, ...]]],
    trees: dict[str, Any],
) -> ForeignBindings | None:
    """Run `check` (which calls jaxtyping's `isinstance`) with jaxtyping's shape memo
    seeded with our bindings; `None` if it fails, else what the memo then holds."""
    new_sizes, new_shapes, new_trees, _ = push_shape_memo(arguments)
    try:
        new_sizes.update(sizes)
        new_shapes.update(shapes)
        new_trees.update(trees)
        if not check():
            return None
        new_sizes, new_shapes, new_trees, _ = typing.cast(Any, get_shape_memo)()
    finally:
        pop_shape_memo()
    return ForeignBindings(
        sizes={k: v for k, v in new_sizes.items() if not _internal(k)},
        shapes={k: v for k, v in new_shapes.items() if not _internal(k)},
        trees=dict(new_trees),
    )


def _internal(name: str) -> bool:
    return name.startswith(_INTERNAL_PREFIX)
