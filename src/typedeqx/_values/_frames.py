"""The value-checking call: what `@checked` runs instead of its plain checked call
when `typedeqx.checks(values=True)` is on.

Every checked call counts the NaN and infinite elements of its array arguments
(unless already counted) and of its outputs, in execution order. Calls traced in
one trace (one `jit`, one `vmap` body, ...) share a *collector*: the outermost of
them (the root) attaches a single check for all its counts to its output, which
raises for the first nonzero count in that order. Eager code (concrete values) is
checked at once instead. Under differentiation every call also watches the
cotangents of its arguments and outputs (see `_backward.py`).
"""

import threading
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import jax.tree_util as jtu
from jax.core import Tracer
from jax.extend.core import get_opaque_trace_state

from .._contracts import describe
from ._backward import watch
from ._error import bad_elements, batch_and_step
from ._guard import guard, nonfinite
from ._loops import loop_tick
from ._sites import Root, Site


class _Stack(threading.local):
    frames: list["_Frame"]
    # The latest outermost checked model call (module, args, kwargs), for the
    # pytest plugin's summary of a failing test.
    last: tuple[Any, Any, Any] | None

    def __init__(self) -> None:
        self.frames = []
        self.last = None


_STACK = _Stack()
_trace_state: Any = get_opaque_trace_state  # unannotated in JAX


class _Entry:
    """One counted value: an argument or an output of a checked call."""

    __slots__ = ("kind", "site", "parent", "name", "text", "size")

    def __init__(
        self, kind: str, site: Site, parent: Site | None, name: str, x: Any
    ) -> None:
        self.kind, self.site, self.parent, self.name = kind, site, parent, name
        self.text, self.size = describe(x), int(x.size)

    def render(self) -> Callable[[int, Any, Any], tuple[str, str]]:
        """The message for this entry, given its count, batch index and step; the
        locations are resolved now (the Python stack may be gone later)."""
        where = self.site.call()
        outer = None if self.parent is None else self.parent.call()
        named = where if outer is None or self.kind == "output" else outer
        kind, name, text, size = self.kind, self.name, self.text, self.size

        def message(count: int, batch: Any, step: Any) -> tuple[str, str]:
            bad = bad_elements(count, size, text)
            if kind == "output":
                head = (
                    f"A NaN or infinity first appeared in {_output(name)} of "
                    f"`{where}` (forward pass): {bad}. Its array arguments were "
                    f"finite, so it arose in `{where}`'s own computation or "
                    "parameters."
                )
            elif outer is None:
                head = (
                    f"The argument {name} passed to `{where}` holds NaN or infinity "
                    f"(forward pass): {bad}. It was already non-finite when the "
                    "checked model was called."
                )
            else:
                head = (
                    f"A NaN or infinity first appeared in `{outer}`'s own code "
                    f"(forward pass), in the argument {name} it passed to "
                    f"`{where}`: {bad}. Everything checked before it was finite."
                )
            return head + batch_and_step(batch, step), named

        return message


def _output(name: str) -> str:
    return f"the output {name}" if name else "the output"


class _Frame:
    __slots__ = ("site", "trace", "entries", "seen")

    def __init__(self, site: Site, trace: Any, entries: list[Any], seen: Any) -> None:
        self.site, self.trace = site, trace
        self.entries: list[tuple[_Entry, Any]] = entries
        self.seen: dict[int, Any] = seen  # id -> array already counted (kept alive)


def _inexact(x: Any) -> bool:
    # Not `dtype.kind in "fc"`: bfloat16's kind is "V".
    dtype = getattr(x, "dtype", None)
    return (
        dtype is not None and hasattr(x, "shape") and jnp.issubdtype(dtype, jnp.inexact)
    )


def _argument_names(func: Any, obj: Any, args: tuple[Any, ...]) -> list[str]:
    code = getattr(func, "__code__", None)
    skip = 0 if obj is None else 1
    names = [] if code is None else list(code.co_varnames[skip : code.co_argcount])
    return [names[i] if i < len(names) else f"args[{i}]" for i in range(len(args))]


def _argument_labels(func: Any, obj: Any, args: tuple[Any, ...], kw: Any) -> Any:
    """The leaves of `(args, kw)` and a label for each inexact array among them
    (`x`, `inputs[1]`), None for the others."""
    names = _argument_names(func, obj, args)
    pairs = jtu.tree_flatten_with_path((args, kw))[0]
    leaves: list[Any] = []
    labels: list[str | None] = []
    for path, x in pairs:
        leaves.append(x)
        if not _inexact(x):
            labels.append(None)
            continue
        top, key = path[0], path[1]
        base = names[key.idx] if top.idx == 0 else str(key.key)
        labels.append(base + jtu.keystr(path[2:]))
    return leaves, labels


def _output_labels(out: Any) -> Any:
    pairs = jtu.tree_flatten_with_path(out)[0]
    labels = [jtu.keystr(p) if _inexact(x) else None for p, x in pairs]
    return [x for _, x in pairs], labels


def _count(frame: _Frame, entry: _Entry, x: Any) -> None:
    """Count the bad elements of `x`: check now if concrete, else collect."""
    if id(x) in frame.seen:
        return
    count = nonfinite(x)
    if not isinstance(count, Tracer):
        guard(None, [count], lambda _, c, b, s, e: entry.render()(c, b, s))
        return
    frame.seen[id(x)] = x
    frame.entries.append((entry, count))


def _count_all(
    frame: _Frame, kind: str, parent: Site | None, leaves: Any, labels: Any
) -> None:
    for x, label in zip(leaves, labels):
        if label is not None:
            _count(frame, _Entry(kind, frame.site, parent, label, x), x)


def _flush(frame: _Frame, out: Any) -> Any:
    """Attach one check for every count collected in this trace to `out`."""
    if not frame.entries:
        return out
    renders = [entry.render() for entry, _ in frame.entries]
    counts = [count for _, count in frame.entries]

    def render(index: int, count: int, batch: Any, step: Any, _: Any) -> Any:
        return renders[index](count, batch, step)

    return guard(out, counts, render, loop=frame.site.root.loop)


def _start_loop(root: Root, leaves: list[Any], labels: list[Any]) -> None:
    """Inside a `lax.scan` body, count this step once for the whole root call."""
    for x, label in zip(leaves, labels):
        if label is not None and isinstance(x, Tracer):
            root.loop = loop_tick(jnp.ravel(x)[:1])
            return


def call_with_values(
    run: Callable[..., Any], func: Any, obj: Any, args: tuple[Any, ...], kw: Any
) -> Any:
    """`run(func, obj, args, kw)` (the checked call), with value checks."""
    __tracebackhide__ = True
    frames = _STACK.frames
    trace = _trace_state(convention="typedeqx")
    parent = frames[-1] if frames else None
    joined = parent is not None and parent.trace == trace
    member = getattr(func, "__name__", "__call__")
    if parent is None and obj is not None and member == "__call__":
        _STACK.last = (obj, args, kw)
    if joined:
        assert parent is not None
        site = Site(parent.site.root, obj, member)
        frame = _Frame(site, trace, parent.entries, parent.seen)
    else:
        site = Site(Root(obj), obj, member)
        frame = _Frame(site, trace, [], {})
    caller = None if parent is None else parent.site
    leaves, labels = _argument_labels(func, obj, args, kw)
    if not joined:
        _start_loop(site.root, leaves, labels)
    _count_all(frame, "argument", caller, leaves, labels)
    args, kw = watch((args, kw), labels, site, "argument", caller)
    frames.append(frame)
    try:
        out = run(func, obj, args, kw)
    finally:
        frames.pop()
    leaves, labels = _output_labels(out)
    _count_all(frame, "output", caller, leaves, labels)
    if not joined:
        out = _flush(frame, out)
    return watch(out, labels, site, "output", caller, tie=not joined)


def innermost_site() -> Site | None:
    """The innermost checked call running on this thread with value checks (its
    module, method and root), or None outside any."""
    frames = _STACK.frames
    return frames[-1].site if frames else None


def last_model_call() -> tuple[Any, Any, Any] | None:
    """The latest outermost checked call of a module on this thread, with value
    checks on: `(module, args, kwargs)` (possibly traced values), or None."""
    return _STACK.last


def forget_model_call() -> None:
    """Drop the reference `last_model_call` keeps."""
    _STACK.last = None
