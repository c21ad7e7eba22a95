"""Module paths for errors: `MLP.layers[1]`.

A module does not know where it sits in its parent. A `ShapeError` instead carries
the innermost module it was raised for (`origin`); every enclosing checked call it
passes through looks for that object, by identity, among its own fields, and
re-roots the path. This costs nothing unless an error is raised.
"""

from collections.abc import Iterator
from typing import Any

from .._module import BoundMethod, Module
from ._shape_error import ShapeError

_MAX_VISITS = 100_000


def _children(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Module):
        for name, child in value.__dict__.items():
            yield f".{name}", child
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            yield f"[{index}]", child
    elif isinstance(value, dict):
        for key, child in value.items():
            yield f"[{key!r}]", child
    elif isinstance(value, BoundMethod):
        yield f".{getattr(value, '__name__', '__call__')}", value.__self__


def find(root: Any, target: Any) -> str | None:
    """The attribute path from `root` to the object `target`, e.g. `.layers[1]`."""
    stack = [(child_path, child) for child_path, child in _children(root)]
    stack.reverse()
    visits = 0
    while stack and visits < _MAX_VISITS:
        path, value = stack.pop()
        visits += 1
        if value is target:
            return path
        children = list(_children(value))
        stack.extend((path + p, c) for p, c in reversed(children))
    return None


def relocate(error: ShapeError, outer: Any) -> None:
    """Re-root `error` at `outer`, a module whose checked method it passed through."""
    inner = error.origin
    if inner is None or inner is outer:
        return
    trail = error.path[len(type(inner).__name__) :]
    head = type(outer).__name__
    found = find(outer, inner)
    if found is None:
        error.set_path(f"{head} > {error.path}", outer)
    else:
        error.set_path(f"{head}{found}{trail}", outer)
