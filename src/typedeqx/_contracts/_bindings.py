"""Per-call dimension bindings, and where each one came from.

A `Bindings` lives for one check of one call (or one construction); it is never
shared between threads. Matchers bind into a scratch copy and commit it only when the
whole value matched, so a failed alternative of a union leaves no trace.
"""

from typing import Any

_KINDS = frozenset({"field", "static field", "argument", "return"})


class BoundBy(str):
    """Where a dimension was bound: the `kind` of value (`"field"`, `"static field"`,
    `"argument"` or `"return"`), its `name`, the `value` as a message shows it
    (`"f32[4,3]"`, or `""` for a static field) and the tree path `at` of the leaf
    that bound it inside a container (or `""`).

    It is also the text that messages show (a `str`), so `ShapeError.bound_by`
    reads as before; programs recognise a kind by `.kind`, never by the text.

    ```python
    >>> source = BoundBy("field", "weight", "f32[4,3]")
    >>> source, source.kind
    ('field weight f32[4,3]', 'field')
    >>> BoundBy("static field", "in_features") == "static field in_features"
    True

    ```
    """

    kind: str
    name: str
    value: str
    at: str

    def __new__(cls, kind: str, name: str, value: str = "", at: str = "") -> "BoundBy":
        if kind not in _KINDS:
            raise ValueError(
                f"BoundBy's kind must be one of {sorted(_KINDS)}; got {kind!r}."
            )
        head = "return value" if kind == "return" else f"{kind} {name}"
        self = super().__new__(cls, head + at + (f" {value}" if value else ""))
        parts = {"kind": kind, "name": name, "value": value, "at": at}
        for attribute, part in parts.items():
            object.__setattr__(self, attribute, part)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"BoundBy is immutable; cannot set {name!r}.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (BoundBy, (self.kind, self.name, self.value, self.at))

    def bound(self, value: str, at: str = "") -> "BoundBy":
        """The same origin, naming the value (and leaf) that bound a dimension."""
        return BoundBy(self.kind, self.name, value, at)


class Bindings:
    """Dimension name -> size, variadic name -> shape, structure name -> treedef.

    `sources` says, for each name, which value bound it (a `BoundBy`), for error
    messages. `label` is the value being checked now (a `BoundBy` without a
    value), `treepath` the leaf of a structured `PyTree[..., "T"]` (for `?name`
    dimensions), `arguments` the call's named values (for `{name}` in symbolic
    dimensions), `self_type` the class of the module being called (for `Self`).
    """

    __slots__ = (
        "sizes",
        "shapes",
        "trees",
        "sources",
        "label",
        "treepath",
        "arguments",
        "self_type",
    )

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.shapes: dict[str, tuple[bool, tuple[int, ...]]] = {}
        self.trees: dict[str, Any] = {}
        self.sources: dict[str, BoundBy] = {}
        self.label = _NOTHING
        self.treepath: str | None = None
        self.arguments: dict[str, Any] = {}
        self.self_type: type | None = None

    def copy(self) -> "Bindings":
        new = Bindings.__new__(Bindings)
        new.sizes = dict(self.sizes)
        new.shapes = dict(self.shapes)
        new.trees = dict(self.trees)
        new.sources = dict(self.sources)
        new.label = self.label
        new.treepath = self.treepath
        new.arguments = self.arguments
        new.self_type = self.self_type
        return new

    def commit(self, scratch: "Bindings") -> None:
        """Adopt what `scratch` (a copy of `self`) bound."""
        self.sizes = scratch.sizes
        self.shapes = scratch.shapes
        self.trees = scratch.trees
        self.sources = scratch.sources

    def bind_size(self, name: str, size: int, source: BoundBy) -> None:
        self.sizes[name] = size
        self.sources.setdefault(name, source)

    def bind_shape(
        self,
        name: str,
        broadcastable: bool,
        shape: tuple[int, ...],
        source: BoundBy,
    ) -> None:
        self.shapes[name] = (broadcastable, shape)
        self.sources.setdefault("*" + name, source)

    def as_dict(self) -> dict[str, Any]:
        """Public view: `name -> size` and `"*name" -> shape`."""
        out: dict[str, Any] = dict(self.sizes)
        for name, (_, shape) in self.shapes.items():
            out["*" + name] = shape
        return out


_NOTHING = BoundBy("argument", "")
