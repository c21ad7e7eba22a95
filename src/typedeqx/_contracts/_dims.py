"""Compile a jaxtyping array annotation (`Float[Array, "batch n+1"]`) into a matcher.

Parsing happens once, when a class or function is decorated. jaxtyping has already
split the dimension string; `_jaxtyping.py` reads what it parsed (a `ParsedArray`),
and each axis becomes a small rule here. Matching a shape against the rules binds
dimension names in a `Bindings`.
"""

import builtins
import dataclasses
import re
from typing import Any

import numpy as np
from jaxtyping import AnnotationError

from ._bindings import Bindings
from ._jaxtyping import Dim, ParsedArray, parse_array
from ._shape_error import dtype_name, short_array, short_dtype

_FAMILIES = {
    "Float": "a float dtype",
    "Int": "a signed integer dtype",
    "UInt": "an unsigned integer dtype",
    "Integer": "an integer dtype",
    "Bool": "a bool dtype",
    "Complex": "a complex dtype",
    "Inexact": "a float or complex dtype",
    "Real": "a real (integer or float) dtype",
    "Num": "a numeric dtype",
    "Key": "a PRNG key dtype (jax.random.key)",
}
_BUILTINS = {"__builtins__": builtins}
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@dataclasses.dataclass
class Problem:
    """Why a value did not match, before it is placed in a `ShapeError`.

    `score` ranks how close the value came (0: wrong type, 1: wrong dtype, 2: wrong
    rank, 3: wrong sizes), so that a union reports its closest alternative. `at` is
    the tree path of the offending leaf inside a container or PyTree. `raises` is
    a built-in exception type the error must also be (see `Rule.raises`).
    """

    got: str
    expected: str
    detail: str = ""
    relevant: tuple[str, ...] = ()
    score: int = 0
    hint: str | None = None
    at: str = ""
    raises: type[Exception] | None = None


@dataclasses.dataclass(frozen=True)
class Axis:
    """One axis rule: `kind` is "any", "fixed", "named" or "symbolic"."""

    kind: str
    broadcastable: bool = False
    size: int = 0
    name: str = ""
    treepath: bool = False
    code: Any = None
    names: tuple[str, ...] = ()


def _compile_axis(dim: Dim) -> Axis:
    if dim.kind == "symbolic":
        text = dim.name
        if "{" in text:
            code = compile("f" + repr(text), "<dimension>", "eval")
        else:
            code = compile(text, "<dimension>", "eval")
        names = tuple(dict.fromkeys(_IDENTIFIER.findall(text.replace("{", " "))))
        return Axis("symbolic", dim.broadcastable, name=text, code=code, names=names)
    return Axis(dim.kind, dim.broadcastable, dim.size, dim.name, dim.treepath)


def render_array(annotation: Any) -> str:
    """`Float[Array, "out in"]`, the annotation as a user writes it."""
    return _render(parse_array(annotation))


def _render(parsed: ParsedArray) -> str:
    array_type = parsed.array_type
    type_name = getattr(array_type, "__name__", None) or repr(array_type)
    type_name = type_name.rsplit(".", 1)[-1]
    return f'{parsed.family}[{type_name}, "{parsed.dim_str.strip()}"]'


class ArraySpec:
    """A compiled jaxtyping array annotation."""

    def __init__(self, annotation: Any) -> None:
        parsed = parse_array(annotation)
        self.text = _render(parsed)
        self.array_type = parsed.array_type
        self.dtypes = parsed.dtypes
        self.wanted_dtype = _FAMILIES.get(parsed.family) or (
            str(self.dtypes[0])
            if self.dtypes and len(self.dtypes) == 1
            else "one of " + ", ".join(str(d) for d in self.dtypes or ())
        )
        i = parsed.variadic
        dims = [_compile_axis(d) for d in parsed.dims]
        self.prefix = tuple(dims if i is None else dims[:i])
        self.suffix = tuple(() if i is None else dims[i + 1 :])
        self.variadic: tuple[str, bool] | None = None
        self.any_rank = i is not None
        if i is not None and parsed.dims[i].kind == "variadic":
            self.variadic = (parsed.dims[i].name, parsed.dims[i].broadcastable)
        axes = self.prefix + self.suffix
        self.symbolic = any(a.kind == "symbolic" for a in axes)
        self.uses_arguments = any(a.kind == "symbolic" and "{" in a.name for a in axes)
        self.rank: int = len(axes)
        self.min_rank_text = f"rank {len(axes)}" + (" or more" if self.any_rank else "")

    def bound_names(self, b: Bindings) -> tuple[str, ...]:
        """The dimension names of this annotation that other values bound already
        (`"in_features"`, `"*shape"`), in the order they appear."""
        names = []
        for axis in self.prefix + self.suffix:
            if axis.kind == "named" and axis.name in b.sizes:
                names.append(axis.name)
        if self.variadic is not None and self.variadic[0] in b.shapes:
            names.insert(len(self.prefix), "*" + self.variadic[0])
        label = b.label
        return tuple(
            n
            for n in dict.fromkeys(names)
            if (source := b.sources.get(n)) is None
            or (source.kind, source.name) != (label.kind, label.name)
        )

    def accepts_dtype(self, dtype: Any) -> bool:
        if self.dtypes is None:
            return True
        name = dtype_name(dtype)
        for wanted in self.dtypes:
            if wanted == name if isinstance(wanted, str) else wanted.match(name):
                return True
        return False

    def match(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> Problem | None:
        """Check `dtype` and `shape`, binding new dimension names into `b`."""
        got = short_array(shape, dtype)
        if not self.accepts_dtype(dtype):
            detail = f"expected {self.wanted_dtype}, got {short_dtype(dtype)}"
            return Problem(got, self.text, detail, score=1)
        n = len(shape)
        if n < self.rank or (n > self.rank and not self.any_rank):
            detail = f"got rank {n}, expected {self.min_rank_text}"
            return Problem(got, self.text, detail, score=2)
        tail = n - len(self.suffix)
        for axis, size, index in (
            *zip(self.prefix, shape, range(n)),
            *zip(self.suffix, shape[tail:], range(tail, n)),
        ):
            problem = self._match_axis(axis, size, index, got, b)
            if problem is not None:
                return problem
        if self.variadic is not None:
            return self._match_variadic(shape[len(self.prefix) : tail], got, b)
        return None

    def _match_axis(
        self, axis: Axis, size: int, index: int, got: str, b: Bindings
    ) -> Problem | None:
        if axis.kind == "any" or (axis.broadcastable and size == 1):
            return None
        if axis.kind == "fixed":
            if size == axis.size:
                return None
            detail = f"axis {index} has size {size}, expected {axis.size}"
            return Problem(got, self.text, detail, score=3)
        if axis.kind == "named":
            name = axis.name
            if axis.treepath:
                if b.treepath is None:
                    raise AnnotationError(
                        f"{self.text}: `?{name}` dimensions are only meaningful inside"
                        ' a structured PyTree annotation, e.g. PyTree[..., "T"].'
                    )
                name = f"{b.treepath}?{name}"
            bound = b.sizes.get(name)
            if bound is None:
                b.bind_size(name, size, b.label.bound(got))
                return None
            if bound == size:
                return None
            return Problem(got, self.text, relevant=(name,), score=3)
        return self._match_symbolic(axis, size, index, got, b)

    def _match_symbolic(
        self, axis: Axis, size: int, index: int, got: str, b: Bindings
    ) -> Problem | None:
        try:
            if "{" in axis.name:
                value = eval(
                    eval(axis.code, _BUILTINS, dict(b.arguments)),
                    _BUILTINS,
                    dict(b.sizes),
                )
            else:
                value = eval(axis.code, _BUILTINS, dict(b.sizes))
        except NameError as e:
            raise AnnotationError(
                f"{self.text}: cannot evaluate the dimension {axis.name!r}: {e.name!r} "
                "is not bound by any field or argument checked before it."
            ) from None
        if value == size:
            return None
        detail = f"axis {index} has size {size}, expected {axis.name}={value}"
        return Problem(got, self.text, detail, relevant=axis.names, score=3)

    def _match_variadic(
        self, shape: tuple[int, ...], got: str, b: Bindings
    ) -> Problem | None:
        assert self.variadic is not None
        name, broadcastable = self.variadic
        previous = b.shapes.get(name)
        if previous is None:
            b.bind_shape(name, broadcastable, shape, b.label.bound(got))
            return None
        was_broadcastable, old = previous
        if not (was_broadcastable or broadcastable):
            if shape == old:
                return None
        else:
            try:
                joint = tuple(np.broadcast_shapes(shape, old))
            except ValueError:
                joint = None
            if was_broadcastable and joint is not None:
                if broadcastable or joint == shape:
                    b.shapes[name] = (broadcastable, joint)
                    return None
            elif joint == old:
                return None
        detail = f"its axes for *{name} are {shape}"
        return Problem(got, self.text, detail, relevant=("*" + name,), score=3)
