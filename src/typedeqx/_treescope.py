"""Rendering Modules in treescope (an optional package): arrays as shape and dtype
with, for checked modules, the dimension names of their contract
(`weight=f32[4,3] (out_features, in_features)`), never as values.

`Module.__treescope_repr__` is installed here (typedeqx's `__init__` calls
`install`), so that `_module` never imports an optional package: treescope is
imported only when it renders a module, and so is present.
"""

import importlib
from typing import Any

from ._contracts import describe, field_dimensions
from ._module import Module


class _ArrayText:
    """An array field as treescope shows it: one line of text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __treescope_repr__(self, path: str | None, subtree_renderer: Any) -> Any:
        rendering_parts = importlib.import_module("treescope.rendering_parts")
        return rendering_parts.text(self.text)


def _field_view(value: Any, names: tuple[str, ...] | None) -> Any:
    shape = getattr(value, "shape", None)
    if not isinstance(shape, tuple) or not hasattr(value, "dtype"):
        return value
    text = describe(value)
    return _ArrayText(f"{text} ({', '.join(names)})" if names else text)


def treescope_repr(module: Any, path: str | None, subtree_renderer: Any) -> Any:
    """`Module.__treescope_repr__`: the module in constructor form, its fields in
    declaration order; array fields as shape, dtype and contract dimension names.

    **Arguments:**

    - `module`: the module to render.
    - `path`, `subtree_renderer`: as treescope passes them.

    **Returns:**

    A treescope rendering.
    """
    repr_lib = importlib.import_module("treescope.repr_lib")
    dims = field_dimensions(module)
    attributes = {
        name: _field_view(value, dims.get(name))
        for name, value in module.__dict__.items()
        if not name.startswith("__")
    }
    return repr_lib.render_object_constructor(
        object_type=type(module),
        attributes=attributes,
        path=path,
        subtree_renderer=subtree_renderer,
    )


def _method(self: Any, path: str | None, subtree_renderer: Any) -> Any:
    return treescope_repr(self, path, subtree_renderer)


def install() -> None:
    """Give `Module` its `__treescope_repr__` (idempotent)."""
    setattr(Module, "__treescope_repr__", _method)
