"""Per-call dimension bindings, and where each one came from.

A `Bindings` lives for one check of one call (or one construction); it is never
shared between threads. Matchers bind into a scratch copy and commit it only when the
whole value matched, so a failed alternative of a union leaves no trace.
"""

from typing import Any


class Bindings:
    """Dimension name -> size, variadic name -> shape, structure name -> treedef.

    `sources` says, for each name, which value bound it (`"field weight f32[4,3]"`),
    for error messages. `label` is the value being checked now, `treepath` the leaf
    of a structured `PyTree[..., "T"]` (for `?name` dimensions), `arguments` the
    call's named values (for `{name}` in symbolic dimensions), `self_type` the class
    of the module being called (for `Self`).
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
        self.sources: dict[str, str] = {}
        self.label = ""
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

    def bind_size(self, name: str, size: int, source: str) -> None:
        self.sizes[name] = size
        self.sources.setdefault(name, source)

    def bind_shape(
        self, name: str, broadcastable: bool, shape: tuple[int, ...], source: str
    ) -> None:
        self.shapes[name] = (broadcastable, shape)
        self.sources.setdefault("*" + name, source)

    def as_dict(self) -> dict[str, Any]:
        """Public view: `name -> size` and `"*name" -> shape`."""
        out: dict[str, Any] = dict(self.sizes)
        for name, (_, shape) in self.shapes.items():
            out["*" + name] = shape
        return out
