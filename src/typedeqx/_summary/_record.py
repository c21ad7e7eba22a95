"""Recording the module calls of a dry run.

For the length of one `summary`, each class in the model that defines `__call__`
gets a recording `__call__` (inside `filter_jit` and the other filtered
transformations when the method is decorated with them; restored afterwards;
reference-counted under a lock, so overlapping summaries in several threads share
it). During the dry run `filter_jit` traces afresh and reports which Modules it
rebuilt from which arguments (`_transform/_observe.py`). The recording wrapper reads
a context-local `Recorder` and, when there is none (any other thread or task), calls
straight through. Checked and unchecked modules are recorded alike; the checked-call
path itself is untouched.

A module is named by its path from the root: by identity among the (traced) model's
modules, else inside the module that called it, else, for the slices of stacked
modules that `lax.scan` and `filter_vmap` pass to the body, by the module in the
model with the same structure and one extra leading axis of size `n` on every array
(reported once, `×n`).
"""

import contextlib
import contextvars
import functools
import importlib
import inspect
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jax.tree_util as jtu

from .._contracts import (
    ShapeError,
    call_dimensions,
    checks_enabled,
    copy_path,
    describe,
    module_paths,
)
from .._module import Module, is_method, transformed
from .._transform import filter_eval_shape
from .._transform._observe import observed
from ._table import Summary
from ._table import SummaryRow as Row


def _batch_tracer() -> type | None:
    # The only private JAX name here: what tells a vmapped value apart.
    try:
        found = importlib.import_module("jax._src.interpreters.batching").BatchTracer
    except (ImportError, AttributeError):  # pragma: no cover - moved in a later JAX
        return None
    return found if isinstance(found, type) else None


_BatchTracer = _batch_tracer()

_recorder: contextvars.ContextVar["Recorder | None"] = contextvars.ContextVar(
    "typedeqx_summary", default=None
)
_lock = threading.Lock()
_patched: dict[type, list[Any]] = {}  # class -> [original __call__, users]


def _is_array(x: Any) -> bool:
    return isinstance(getattr(x, "shape", None), tuple) and hasattr(x, "dtype")


def _size(x: Any) -> tuple[int, int]:
    n = math.prod(x.shape)
    return n, n * int(getattr(x.dtype, "itemsize", 0))


def _own_arrays(module: Any) -> list[Any]:
    leaves = jtu.tree_leaves(
        list(module.__dict__.values()), is_leaf=lambda x: isinstance(x, Module)
    )
    return [x for x in leaves if not isinstance(x, Module) and _is_array(x)]


def _batched(values: Any) -> bool:
    if _BatchTracer is None:
        return False
    return any(isinstance(x, _BatchTracer) for x in jtu.tree_leaves(values))


def _text(value: Any, names: tuple[str, ...] | None = None) -> str | None:
    if _is_array(value):
        text = describe(value)
        return f"{text} ({', '.join(names)})" if names else text
    leaves = [x for x in jtu.tree_leaves(value) if _is_array(x)]
    if not leaves:
        return None
    shown = ", ".join(describe(x) for x in leaves[:4])
    return f"({shown}{', ...' if len(leaves) > 4 else ''})"


def _stacked(obj: Any, candidate: Any) -> int | None:
    """`n` if `candidate` is `obj` with one extra leading axis of size `n` on every
    array (0 when the arrays have the same shapes), else `None`."""
    structure: Any = jtu.tree_structure(obj)
    if structure != jtu.tree_structure(candidate):
        return None
    sizes = set()
    for a, b in zip(jtu.tree_leaves(obj), jtu.tree_leaves(candidate)):
        if _is_array(a) != _is_array(b):
            return None
        if _is_array(a):
            if b.shape == a.shape:
                sizes.add(0)
            elif b.shape[1:] == a.shape and len(b.shape) > 0:
                sizes.add(b.shape[0])
            else:
                return None
    return sizes.pop() if len(sizes) == 1 else (0 if not sizes else None)


class Recorder:
    """The rows of one dry run, filled in as the traced model calls its modules."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.rows: list[Row] = []
        self.stack: list[tuple[Any, Row | None, str, int | None]] = []
        self.modules = list(module_paths(root))
        self.by_id = {id(m): (path, m) for path, m in self.modules}
        self.by_path = {path: m for path, m in self.modules}
        self.counted: set[int] = set()
        self.seen: set[tuple[Any, ...]] = set()
        # id of a Module `filter_jit` rebuilt inside its trace -> (it, the module
        # it was rebuilt from); both kept alive for the dry run (see _observe.py)
        self.aliases: dict[int, tuple[Any, Any]] = {}
        self.failed = False
        arrays = [x for x in jtu.tree_leaves(root) if _is_array(x)]
        self.total_params = sum(_size(x)[0] for x in arrays)
        self.total_bytes = sum(_size(x)[1] for x in arrays)

    def alias(self, rebuilt: Any, original: Any) -> None:
        """`rebuilt`, made inside a `filter_jit` trace, stands for `original`."""
        self.aliases[id(rebuilt)] = (rebuilt, original)

    def locate(self, obj: Any) -> tuple[str, Any, int | None]:
        """`(path, the module in the model, stack count)` for a called module."""
        while id(obj) in self.aliases:
            obj = self.aliases[id(obj)][1]
        found = self.by_id.get(id(obj))
        if found is not None:
            return found[0], found[1], None
        for caller, _, caller_path, count in reversed(self.stack):
            head = len(type(caller).__name__)
            for path, module in module_paths(caller):
                if module is obj:
                    path = caller_path + path[head:]
                    return path, self.by_path.get(path), count
        return self._rebuilt(obj) or (type(obj).__name__, None, None)

    def _rebuilt(self, obj: Any) -> tuple[str, Any, int | None] | None:
        """A module of the model that `obj` was rebuilt from: the one it cannot be
        told apart from (a copy `vmap` passes of a module it does not map; see
        `_contracts/_paths.py`), else the one it is a slice of (`lax.scan`,
        `vmap`); `None` unless exactly one fits, so that two modules of the same
        shapes are never confused."""
        copied = copy_path(self.root, obj)
        if copied is not None:
            path = type(self.root).__name__ + copied
            return path, self.by_path.get(path), None
        stacked = [
            (p, m, n)
            for p, m in self.modules
            if type(m) is type(obj) and (n := _stacked(obj, m)) is not None
        ]
        if len(stacked) != 1:
            return None
        path, module, n = stacked[0]
        return path, module, n or None

    def call(self, func: Callable[..., Any], obj: Any, args: Any, kw: Any) -> Any:
        if self.stack and self.stack[-1][0] is obj:  # super().__call__
            return func(obj, *args, **kw)
        path, module, count = self.locate(obj)
        named = _arguments(func, obj, args, kw)
        inputs = [f"{k} {t}" for k, v in named.items() if (t := _text(v)) is not None]
        key = (path, tuple(inputs))
        row: Row | None = None
        if count is None or key not in self.seen:
            self.seen.add(key)
            row = Row(path, type(obj).__name__, inputs, count=count)
            row.vmapped = _batched((obj, args, kw))
            if module is not None and id(module) not in self.counted:
                self.counted.add(id(module))
                arrays = _own_arrays(module)
                row.params = sum(_size(x)[0] for x in arrays)
                row.bytes = sum(_size(x)[1] for x in arrays)
            self.rows.append(row)
        self.stack.append((obj, row, path, count))
        try:
            out = func(obj, *args, **kw)
        except ShapeError:
            if row is not None and not self.failed:
                self.failed = row.failed = True
            raise
        finally:
            self.stack.pop()
        if row is not None:
            self._finish(row, func, obj, (args, kw, named), out)
        return out

    def _finish(self, row: Row, func: Any, obj: Any, call: Any, out: Any) -> None:
        args, kw, named = call
        dims = call_dimensions(func, obj, args, kw, out) if checks_enabled() else None
        arg_names, out_names = dims if dims is not None else ({}, None)
        row.inputs = [
            f"{k} {t}"
            for k, v in named.items()
            if (t := _text(v, arg_names.get(k))) is not None
        ]
        row.output = _text(out, out_names) or describe(out)


def _arguments(func: Any, obj: Any, args: Any, kw: Any) -> dict[str, Any]:
    try:
        bound = _signature(func).bind(obj, *args, **kw)
    except TypeError:
        return {f"arg{i}": a for i, a in enumerate(args)} | dict(kw)
    named = dict(bound.arguments)
    named.pop(next(iter(named)), None)  # self
    return named


@functools.lru_cache(maxsize=256)
def _signature(func: Any) -> inspect.Signature:
    return inspect.signature(func)


def _recording(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def recording_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        recorder = _recorder.get()
        if recorder is None:
            return func(self, *args, **kwargs)
        return recorder.call(func, self, args, kwargs)

    return recording_call


def _definer(cls: type) -> type | None:
    for base in cls.__mro__:
        if "__call__" in base.__dict__:
            value = base.__dict__["__call__"]
            found = is_method("__call__", value) or transformed(value) is not None
            return base if found else None
    return None


def _recording_member(original: Any) -> Any:
    """`original` (a plain `__call__`, or one inside filtered transformations such
    as `@filter_jit`) recording its calls: inside the transformations, where the
    module's own call runs."""
    inside = transformed(original)
    if inside is None:
        return _recording(original)
    func, rewrap = inside
    return rewrap(_recording(func))


@contextlib.contextmanager
def _hooked(classes: set[type]) -> Iterator[None]:
    definers = {d for d in map(_definer, classes) if d is not None}
    with _lock:
        for cls in definers:
            entry = _patched.get(cls)
            if entry is None:
                original = cls.__dict__["__call__"]
                entry = _patched[cls] = [original, 0]
                setattr(cls, "__call__", _recording_member(original))
            entry[1] += 1
    try:
        yield
    finally:
        with _lock:
            for cls in definers:
                entry = _patched[cls]
                entry[1] -= 1
                if entry[1] == 0:
                    setattr(cls, "__call__", entry[0])
                    del _patched[cls]


def summary(model: Any, *args: Any, **kwargs: Any) -> Summary:
    """Run `model(*args, **kwargs)` as a shape-only dry run and tabulate its calls.

    The call is traced with `filter_eval_shape`: no arithmetic runs and no memory is
    spent on activations, so `args` may be `jax.ShapeDtypeStruct`s. Every module call
    becomes a row, in call order: its path from the root (`Net.blocks[1].mlp`), its
    class, each array argument's and the output's shape and dtype (per example
    inside `vmap`, marked `vmap`), the dimension names a checked module's contract
    binds (`x f32[16,64] (seq, d_model)`), and the parameters and bytes of its own
    arrays (counted once per module). A layer run by `lax.scan` over a stack of `n`
    appears once, marked `×n`.

    A `__call__` under `filter_jit` (or another filtered transformation) is
    recorded too, and each summary traces `filter_jit` afresh, so the calls inside
    it are seen however often it was compiled. Inside a plain `jax.jit`, calls are
    seen only when JAX traces it (the first time for given shapes).

    A broken contract does not raise: the summary ends at the failing call (marked
    `failed`) and carries the `ShapeError` in `.error` (printed under the table).
    Other exceptions propagate.

    **Arguments:**

    - `model`: a Module (or any callable PyTree of them).
    - `*args`, `**kwargs`: what `model` is called with: arrays of any shape or
        `jax.ShapeDtypeStruct`s, and other values.

    **Returns:**

    A [`Summary`][]: `rows`, `total_params`, `total_bytes`, `output` (the output's
    `jax.ShapeDtypeStruct`s) and `error`; `str()` gives the table.
    """
    classes = {type(m) for _, m in module_paths(model)}
    if not classes:
        raise ValueError(
            f"typedeqx.summary records the calls of Modules, and the model holds none "
            f"(got {type(model).__name__}). Pass the Module itself, e.g. "
            "typedeqx.summary(model, x), not a function or a transformed wrapper "
            "such as filter_vmap(model): to see a vmapped model, summarise it on one "
            "example, or vmap inside the model's __call__."
        )
    recorders: list[Recorder] = []

    def dry_run(model: Any, args: Any, kwargs: Any) -> Any:
        recorder = Recorder(model)
        recorders.append(recorder)
        token = _recorder.set(recorder)
        try:
            with observed(recorder):  # filter_jit traces afresh, naming its Modules
                return model(*args, **kwargs)
        finally:
            _recorder.reset(token)

    out, error = None, None
    with _hooked(classes):
        try:
            out = filter_eval_shape(dry_run, model, args, kwargs)
        except ShapeError as e:
            error = e
    recorder = recorders[-1]
    rows = recorder.rows
    if error is not None:
        last = next((i for i, r in enumerate(rows) if r.failed), len(rows) - 1)
        rows = rows[: last + 1]
    return Summary(rows, recorder.total_params, recorder.total_bytes, out, error)
