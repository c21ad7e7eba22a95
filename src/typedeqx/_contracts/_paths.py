"""Module paths for errors: `Net.blocks[1].mlp.layers[0]`.

A module does not know where it sits in its parent. A `ShapeError` instead carries
the innermost module it was raised for (`origin`). When a call's check fails,
`locate` walks the Python stack, outermost frame first, for a `self` that is a
Module holding that object among its fields (found by identity, through lists,
tuples, dicts and unchecked modules; a copy `vmap` made of a module it does not
map, by its structure and very arrays: `copy_path`), and roots the path there;
so unchecked parents count too, eagerly and while tracing under `filter_jit` or
`filter_vmap`. Every
enclosing checked call the error then passes through calls `relocate`, which only
adds an outer module the stack walk could not see into (across a `jit` boundary).
All of this costs nothing unless an error is raised.
"""

import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import jax
import jax.core
import jax.tree_util as jtu

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


def _depth(frame: FrameType | None) -> int:
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _is_model(value: Any) -> bool:
    # The transforms' own wrappers (`filter_jit(model)`) are Modules too, but not
    # part of a user's model: a path never starts at them.
    return (
        isinstance(value, Module)
        and not isinstance(value, BoundMethod)
        and not type(value).__module__.startswith("typedeqx._transform")
    )


# Modules a wrapper built for one call, in place of one it holds (WeightNorm's
# layer with the normalised weight, Shared's restored tree): id -> (module,
# wrapper, path from the wrapper). Bounded; consulted only on the error path.
_STAND_INS: dict[int, tuple[Any, Any, str]] = {}
_MAX_STAND_INS = 64


def stand_in(module: Any, wrapper: Any, at: str = "") -> None:
    """Record that `wrapper` built `module` for this call, in place of what it holds
    at `at` (e.g. `".pytree[1]"`), so that errors inside `module` are named from
    the wrapper's place in the model: `Net.head (WeightNorm > Linear.__call__)`.

    **Arguments:**

    - `module`: the module the wrapper is about to call (or hand out).
    - `wrapper`: the wrapper (usually `self`).
    - `at`: the path inside `wrapper` of the node `module` stands for, shown after
        the wrapper's path; `""` for the wrapped layer itself.
    """
    if len(_STAND_INS) >= _MAX_STAND_INS:
        del _STAND_INS[next(iter(_STAND_INS))]
    _STAND_INS[id(module)] = (module, wrapper, at)


def _stood_in(module: Any) -> tuple[Any, str] | None:
    entry = _STAND_INS.get(id(module))
    if entry is None or entry[0] is not module:
        return None
    return entry[1], entry[2]


def _array_leaves(tree: Any) -> list[Any]:
    return [
        x for x in jtu.tree_leaves(tree) if hasattr(x, "shape") and hasattr(x, "dtype")
    ]


def copy_path(outer: Any, member: Any) -> str | None:
    """The path in `outer` of the one module that `member` cannot be told apart
    from: the same type and tree structure, and the very same array objects. Such
    a copy is what `vmap` passes a module it does not map (`in_axes=None`), or
    `tree_map` rebuilds; `None` unless exactly one module fits (two modules holding
    the same arrays are not told apart)."""
    arrays = _array_leaves(member)
    if not arrays:
        return None
    structure: Any = jtu.tree_structure(member)
    found = [
        (path, id(value))
        for path, value in walk(outer)
        if path
        and type(value) is type(member)
        and value is not member
        and jtu.tree_structure(value) == structure
        and _same_objects(_array_leaves(value), arrays)
    ]
    # one module (at its first path, as `find` gives when it is shared)
    return found[0][0] if len({key for _, key in found}) == 1 else None


def _same_objects(left: list[Any], right: list[Any]) -> bool:
    return len(left) == len(right) and all(a is b for a, b in zip(left, right))


def _stack_size(stacked: Any, member: Any) -> int | None:
    """`N` when `stacked` is `member`'s structure with every array given one extra
    leading axis of size `N` (a `filter_vmap` stack), else `None`."""
    structure: Any = jtu.tree_structure(stacked)
    if structure != jtu.tree_structure(member):
        return None
    sizes = set()
    for big, small in zip(_array_leaves(stacked), _array_leaves(member)):
        if big.shape[1:] != small.shape or big.dtype != small.dtype or not big.shape:
            return None
        sizes.add(big.shape[0])
    return sizes.pop() if len(sizes) == 1 else None


def _stacked(outer: Any, member: Any) -> tuple[str, str] | None:
    """Where in `outer` the stack that `member` is one slice of lives, as a path with
    `[*]` where the stacking starts (`.blocks[*].norm1`), and a note (`scanned
    over 4`). Only for a member made of tracers (inside `lax.scan` or `vmap`, where
    no identity links it to the stack), and only when exactly one stack fits."""
    leaves = _array_leaves(member)
    if not leaves or not all(isinstance(x, jax.core.Tracer) for x in leaves):
        return None
    found = [
        (path, size)
        for path, value in walk(outer)
        if type(value) is type(member)
        and value is not member
        and (size := _stack_size(value, member)) is not None
    ]
    if len(found) != 1:
        return None
    ((path, size),) = found
    cut = _stack_start(outer, path, size)
    kind = "mapped" if type(leaves[0]).__name__ == "BatchTracer" else "scanned"
    return f"{path[:cut]}[*]{path[cut:]}", f"{kind} over {size}"


def _stack_start(outer: Any, path: str, size: int) -> int:
    """The end of the shortest prefix of `path` whose value is all stacked."""
    for prefix, value in walk(outer):
        if (
            prefix
            and path.startswith(prefix)
            and path[len(prefix) : len(prefix) + 1] in ("", ".", "[")
        ):
            leaves = _array_leaves(value)
            if leaves and all(x.shape[:1] == (size,) for x in leaves):
                return len(prefix)
    return len(path)


class _Location:
    """Where an error's module sits: `path` from the root module, the wrapper
    chain `via` it was called through, a `note`, and the root's frame depth."""

    def __init__(self, inner: Any) -> None:
        self.root = inner
        self.trail = ""
        self.via = ""
        self.note = ""
        self.frame: FrameType | None = None


def _lift(where: _Location, frames: list[FrameType]) -> bool:
    """Root `where` one step further out: at the outermost frame's module that holds
    its root, or at the wrapper that built it. Whether it moved."""
    current = where.root
    for frame in frames:
        outer = frame.f_locals.get("self")
        if outer is current:
            break
        if not _is_model(outer):
            continue
        found = find(outer, current)
        if found is None:
            found = copy_path(outer, current)
        if found is None and not where.note:
            stacked = _stacked(outer, current)
            if stacked is not None:
                found, where.note = stacked
        if found is not None:
            where.root, where.trail, where.frame = outer, found + where.trail, frame
            return True
    wrapped = _stood_in(current)
    if wrapped is None:
        return False
    wrapper, at = wrapped
    inner = where.via or type(current).__name__ + where.trail
    where.via = f"{type(wrapper).__name__} > {inner}"
    where.root, where.trail = wrapper, at
    return True


def locate(error: ShapeError) -> ShapeError:
    """Root `error`'s path at the outermost module on the call stack that holds its
    origin (an unchecked parent included; through wrappers that built it and
    through stacks it is a slice of); returns `error`, for `raise`."""
    inner = error.origin
    if inner is None or error.path != error.owner:
        return error
    where = _Location(inner)
    frames = _frames()
    for _ in range(_MAX_FRAMES):
        if not _lift(where, frames):
            break
    if where.root is inner:
        return error
    path = type(where.root).__name__ + where.trail
    error._set_location(path, where.root, where.via, where.note)
    error.depth = None if where.frame is None else _depth(where.frame)
    return error


def reroot(error: ShapeError, rebuilt: Any, original: Any) -> None:
    """Move `error`, rooted inside a trace at a Module rebuilt from the traced
    call's arguments (`filter_jit`'s), to the Module it was rebuilt from, and root
    it on outward along the stack, as `locate` would have without the trace.

    **Arguments:**

    - `error`: a located `ShapeError` raised while tracing.
    - `rebuilt`: the traced call's arguments, as the trace rebuilt them.
    - `original`: the arguments the call was given (the same structure).
    """
    at = find(rebuilt, error.origin)
    if at is None:
        return
    target = next((v for path, v in walk(original) if path == at), None)
    if type(target) is not type(error.origin):
        return
    where = _Location(target)
    where.trail = error.path[len(type(target).__name__) :]
    where.via, where.note = error.via, error.note
    frames = _frames()
    for _ in range(_MAX_FRAMES):
        if not _lift(where, frames):
            break
    if where.root is not target and error._hint_located:
        error._set_hint(None)  # it named the inner module's inputs
    path = type(where.root).__name__ + where.trail
    error._set_location(path, where.root, where.via, where.note)
    error.depth = None if where.frame is None else _depth(where.frame)


def relocate(error: ShapeError, outer: Any) -> None:
    """Re-root `error` at `outer`, a module whose checked method it passed through,
    unless the error is already rooted further out on the stack."""
    inner = error.origin
    if inner is None or inner is outer or find(inner, outer) is not None:
        return
    depth = getattr(error, "depth", None)
    if depth is not None and _depth(sys._getframe(1)) > depth:
        return  # `outer` was called inside the frame the error is rooted at
    trail = error.path[len(type(inner).__name__) :]
    head = type(outer).__name__
    found = find(outer, inner)
    if found is None:
        error.set_path(f"{head} > {error.path}", outer)
    else:
        error.set_path(f"{head}{found}{trail}", outer)
