"""Module paths for errors: `Net.blocks[1].mlp.layers[0]`.

A module does not know where it sits in its parent. A `ShapeError` instead carries
the innermost module it was raised for (`origin`). When a call's check fails,
`locate` walks the Python stack, outermost frame first, for a `self` that is a
Module holding that object among its fields (found by identity, through lists,
tuples, dicts and unchecked modules), and roots the path there; so unchecked parents
count too, eagerly and while tracing under `filter_jit` or `filter_vmap`. Every
enclosing checked call the error then passes through calls `relocate`, which only
adds an outer module the stack walk could not see into (across a `jit` boundary).
All of this costs nothing unless an error is raised.
"""

import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from .._module import BoundMethod, Module
from ._shape_error import ShapeError

_MAX_VISITS = 100_000
_MAX_FRAMES = 1_000


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


def walk(root: Any) -> Iterator[tuple[str, Any]]:
    """Every value under `root` with its attribute path (`.layers[1]`), depth first
    in field order; `root` itself first, with the path `""`."""
    stack = [("", root)]
    visits = 0
    while stack and visits < _MAX_VISITS:
        path, value = stack.pop()
        visits += 1
        yield path, value
        children = list(_children(value))
        stack.extend((path + p, c) for p, c in reversed(children))


def find(root: Any, target: Any) -> str | None:
    """The attribute path from `root` to the object `target`, e.g. `.layers[1]`."""
    for path, value in walk(root):
        if value is target and path:
            return path
    return None


def module_paths(root: Any) -> Iterator[tuple[str, Any]]:
    """Every Module under `root` (itself included) with its path from it, e.g.
    `("Net.blocks[1].mlp", mlp)`, in field order. A module reachable twice is
    yielded once, at its first path.

    **Arguments:**

    - `root`: a Module (or any PyTree of them).

    **Returns:**

    An iterator of `(path, module)` pairs; paths start with `root`'s class name.
    """
    head = type(root).__name__
    seen: set[int] = set()
    for path, value in walk(root):
        if isinstance(value, Module) and not isinstance(value, BoundMethod):
            if id(value) not in seen:
                seen.add(id(value))
                yield head + path, value


def _frames() -> list[FrameType]:
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and len(frames) < _MAX_FRAMES:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()  # outermost first
    return frames


def _is_model(value: Any) -> bool:
    # The transforms' own wrappers (`filter_jit(model)`) are Modules too, but not
    # part of a user's model: a path never starts at them.
    return (
        isinstance(value, Module)
        and not isinstance(value, BoundMethod)
        and not type(value).__module__.startswith("typedeqx._transform")
    )


def locate(error: ShapeError) -> ShapeError:
    """Root `error`'s path at the outermost module on the call stack that holds its
    origin (an unchecked parent included); returns `error`, for `raise`."""
    inner = error.origin
    if inner is None or error.path != error.owner:
        return error
    for frame in _frames():
        outer = frame.f_locals.get("self")
        if outer is inner:
            break
        if not _is_model(outer):
            continue
        found = find(outer, inner)
        if found is not None:
            error.set_path(f"{type(outer).__name__}{found}", outer)
            break
    return error


def relocate(error: ShapeError, outer: Any) -> None:
    """Re-root `error` at `outer`, a module whose checked method it passed through."""
    inner = error.origin
    if inner is None or inner is outer or find(inner, outer) is not None:
        return
    trail = error.path[len(type(inner).__name__) :]
    head = type(outer).__name__
    found = find(outer, inner)
    if found is None:
        error.set_path(f"{head} > {error.path}", outer)
    else:
        error.set_path(f"{head}{found}{trail}", outer)
