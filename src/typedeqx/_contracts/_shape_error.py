"""`ShapeError`, the structured error for a broken shape contract, and the short
renderings (`f32[4,3]`) it is written in."""

from typing import Any

import numpy as np
from jaxtyping import TypeCheckError

_DTYPE_ABBREVIATIONS = {
    "float": "f",
    "bfloat": "bf",
    "int": "i",
    "uint": "u",
    "complex": "c",
}


def dtype_name(dtype: Any) -> str:
    """The dtype's name as jaxtyping matches it: `float32`, `bool`, `prng_key`..."""
    kind = getattr(dtype, "type", None)
    name = getattr(kind, "__name__", None)
    if isinstance(name, str):
        if name != "void" or dtype == np.dtype(np.void):
            return name
    return str(dtype)


def short_dtype(dtype: Any) -> str:
    """`float32` -> `f32`, `bfloat16` -> `bf16`, `int8` -> `i8`; others unchanged."""
    text = str(dtype)
    for prefix, short in _DTYPE_ABBREVIATIONS.items():
        rest = text[len(prefix) :]
        if text.startswith(prefix) and rest.isdigit():
            return short + rest
    return text


def short_array(shape: tuple[int, ...], dtype: Any) -> str:
    """`(4, 3), float32` -> `f32[4,3]`."""
    return f"{short_dtype(dtype)}[{','.join(str(n) for n in shape)}]"


def describe(value: Any) -> str:
    """What a value is, for a message: shape and dtype for arrays (never contents)."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        text = short_array(shape, dtype)
        module = type(value).__module__
        if not (module.startswith("jax") or module.startswith("jaxlib")):
            text = f"{_type_name(type(value))} {text}"
        return text
    if value is None or isinstance(value, (bool, int, float, str)):
        text = repr(value)
        return text if len(text) <= 40 else type(value).__name__
    return _type_name(type(value))


_QUALIFIED = frozenset({"numpy", "torch", "tensorflow"})


def _type_name(cls: type) -> str:
    package = cls.__module__.split(".")[0]
    return f"{package}.{cls.__name__}" if package in _QUALIFIED else cls.__name__


class ShapeError(TypeCheckError, ValueError):
    """A value broke a shape contract of a `@typedeqx.checked` module or function.

    A subclass of `jaxtyping.TypeCheckError` (so of `TypeError`), and of
    `ValueError`, the type Equinox's layers raise for a wrong input shape (a
    convolution's rank, LayerNorm's shape), so code written against either library
    catches it. Its attributes say
    what went wrong, for programs and tests; its message renders them:

    - `path`: module path from the outermost checked call, e.g. `"MLP.layers[1]"`
        (the function's qualified name for a checked function).
    - `owner`: the class whose contract broke (`"Linear"`), or `None` for a function.
    - `member`: `"__init__"`, `"__call__"` or the method's name.
    - `parameter`: the argument or field name, or `"return"`.
    - `expected`: the annotation as written, e.g. `Float[Array, "in_features"]`.
    - `got`: the value's shape and dtype, e.g. `f32[5]`, with the tree path of the
        offending leaf for PyTree values.
    - `bindings`: dimension name -> size bound so far (`"*name"` -> shape for
        variadic dimensions).
    - `bound_by`: dimension name -> where it was bound, e.g. `"field weight f32[4,3]"`:
        a `str` that also carries its parts as `kind` (`"field"`, `"static field"`,
        `"argument"`, `"return"`), `name`, `value` and `at`.
    - `hint`: a likely fix, or `None`.
    - `via`: the wrappers the module was called through when it is not one of their
        fields, e.g. `"WeightNorm > Linear"` (else `""`).
    - `note`: how the module was reached, e.g. `"scanned over 4"` for a slice of a
        stack of modules run by `lax.scan` (else `""`).
    """

    path: str
    owner: str | None
    member: str
    parameter: str
    expected: str
    got: str
    bindings: dict[str, Any]
    bound_by: dict[str, str]
    hint: str | None

    def __init__(
        self,
        *,
        owner: str | None,
        member: str,
        parameter: str,
        role: str,
        expected: str,
        got: str,
        detail: str,
        bindings: dict[str, Any],
        bound_by: dict[str, str],
        relevant: tuple[str, ...] = (),
        hint: str | None = None,
        origin: Any = None,
    ) -> None:
        self.path = owner if owner is not None else member
        self.owner = owner
        self.member = member
        self.parameter = parameter
        self.role = role
        self.expected = expected
        self.got = got
        self.detail = detail
        self.bindings = bindings
        self.bound_by = bound_by
        self.relevant = relevant
        self.hint = hint
        self.via = ""
        self.note = ""
        self._hint_located = False
        self.depth: int | None = None
        # The innermost module on the path; enclosing checked calls find it among
        # their fields to extend `path` (see `_paths.py`).
        self.origin = origin
        super().__init__(self._render())

    def set_path(self, path: str, origin: Any) -> None:
        """Re-root the error at an enclosing module and refresh the message."""
        self._set_location(path, origin, self.via, self.note)

    def _set_location(self, path: str, origin: Any, via: str, note: str) -> None:
        # `via`: the wrappers the module was called through when it is not a field
        # (`"WeightNorm > Linear"`); `note`: how it was reached (`"scanned over 4"`).
        self.path = path
        self.origin = origin
        self.via = via
        self.note = note
        self.args = (self._render(),)

    def _set_hint(self, hint: str | None, located: bool = False) -> None:
        """Set the hint (found once the error is located) and refresh the message.
        `located`: the hint holds only where the error is rooted now (it maps over
        the inputs of the module the path names)."""
        self.hint = hint
        self._hint_located = located
        self.args = (self._render(),)

    def _render(self) -> str:
        source = self.bound_by.get(self.parameter)
        stale = getattr(source, "kind", None) == "field" and self.role == "static field"
        if stale and self.member != "__init__" and self.owner is not None:
            return self._render_stale(str(source))
        where = self._location()
        name = (
            "return value"
            if self.parameter == "return"
            else (f"{self.role} {self.parameter}")
        )
        text = f"{where}: {name} is {self.got}, expected {self.expected}"
        clauses = [self._binding_clause(d) for d in self.relevant if d in self.bindings]
        if clauses:
            text += " with " + ", ".join(clauses)
        if self.detail:
            text += f" ({self.detail})"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def _location(self) -> str:
        """`Net.head (WeightNorm > Linear.__call__)`: the path, and the method."""
        via = getattr(self, "via", "")
        note = getattr(self, "note", "")
        if self.owner is None:
            return self.path
        method = f"{self.owner}.{self.member}"
        if via:
            method = (
                f"{via}.{self.member}"
                if via.endswith(self.owner)
                else (f"{via}: {method}")
            )
        elif self.path == self.owner and not note:
            return method
        return f"{self.path} ({method}{', ' + note if note else ''})"

    def _render_stale(self, source: str) -> str:
        # An array field and a static size of the same layer disagree: no annotation
        # is wrong, the layer is (see `_stale_hint` in `_plan.py`).
        where = self.owner if self.path == self.owner else f"{self.path} ({self.owner})"
        text = (
            f"{where}: {source} does not match the layer's configuration "
            f"{self.parameter}={self.got} (static field)."
        )
        return text + (f" {self.hint}" if self.hint else "")

    def _binding_clause(self, dim: str) -> str:
        value = self.bindings[dim]
        clause = f"{dim}={value}"
        source = self.bound_by.get(dim)
        return clause if source is None else f"{clause} (bound by {source})"

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any], Any]]:
        # Keyword-only __init__: rebuild from the attributes (the module is dropped),
        # as the same kind of error (see `shape_error_type`).
        extra = next((k for k, v in _ALSO.items() if v is type(self)), None)
        return (_rebuild, ({**self.__dict__, "origin": None}, extra))


def _rebuild(state: dict[str, Any], extra: Any = None) -> ShapeError:
    cls = shape_error_type(extra)
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (error._render(),)
    return error


ShapeError.__module__ = "typedeqx"

_ALSO: dict[type[Exception], type[ShapeError]] = {}


def shape_error_type(extra: type[Exception] | None) -> type[ShapeError]:
    """`ShapeError`, or its subclass that is also an `extra` (a built-in exception
    type such as `AssertionError`): the error of a contract rule that says
    `raises=extra`, so that `except extra` written against Equinox catches it. One
    class per `extra`, named `ShapeError` too, so tracebacks read the same."""
    if extra is None or issubclass(ShapeError, extra):
        return ShapeError
    cls = _ALSO.get(extra)
    if cls is None:
        doc = f"A `ShapeError` that is also an `{extra.__name__}`."
        namespace = {"__module__": "typedeqx", "__doc__": doc}
        cls = _ALSO[extra] = type("ShapeError", (ShapeError, extra), namespace)
    return cls
