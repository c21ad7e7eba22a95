"""Reading a checkpoint's leaves one by one while collecting every way the file and
`like` disagree, so that one error can list them all."""

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._checkpoint_error import CheckpointError
from ._manifest import Layout, ReadSeek, read_manifest, verify_data

Meta = tuple[tuple[int, ...], str | None]


def leaf_meta(leaf: Any) -> Meta | None:
    """Shape and dtype of an array-like leaf (dtype `None` for a Python scalar)."""
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return tuple(leaf.shape), str(leaf.dtype)
    if isinstance(leaf, (bool, int, float, complex)):
        return (), None
    return None


def describe(meta: Meta | None) -> str:
    if meta is None:
        return "no array"
    shape, dtype = meta
    return f"{dtype or 'Python scalar'}{list(shape)}"


_array_type: list[type] = []


def _loaded_array_type() -> type:
    # ArrayImpl is not public; a `ShapeDtypeStruct` in `like` becomes one on load.
    if not _array_type:
        with jax.ensure_compile_time_eval():
            _array_type.append(type(jnp.zeros(())))
    return _array_type[0]


def compare_loaded(path: str, old: Any, new: Any) -> str | None:
    """How a loaded leaf differs from its `like` leaf, as Equinox checks it."""
    old_type = _loaded_array_type() if type(old) is jax.ShapeDtypeStruct else type(old)
    if type(new) is not old_type:
        return (
            f"{path}: {old_type.__name__} in `like`, {type(new).__name__} in the file"
        )
    if isinstance(new, (np.ndarray, jax.Array)):
        if new.shape != old.shape:
            return (
                f"{path}: shape {tuple(old.shape)} in `like`, {new.shape} in the file"
            )
        if new.dtype != old.dtype:
            return f"{path}: dtype {old.dtype} in `like`, {new.dtype} in the file"
    return None


@dataclasses.dataclass
class _Read:
    path: str
    meta: Meta | None
    start: int
    end: int | None  # None: the leaf wanted data the file does not have


class LeafReader:
    """Loads leaves through the filter spec and remembers what each one read."""

    def __init__(self, f: ReadSeek, layout: Layout, name: str):
        self.f = f
        self.layout = layout
        self.name = name
        self.reads: list[_Read] = []
        self.read_problems: list[str] = []
        self.value_problems: list[str] = []
        self.lost_at: int | None = None

    def load(self, path: str, spec: Callable[[Any, Any], Any], leaf: Any) -> Any:
        if self.lost_at is not None:
            return leaf
        start = self.f.tell()
        try:
            new = spec(self.f, leaf)
        except Exception as e:
            self._failed(path, leaf, start, e)
            return leaf
        end = self.f.tell()
        if end != start:
            self.reads.append(_Read(path, leaf_meta(leaf), start, end))
            if end > self.layout.data_end and self.layout.stop in ("eof", "manifest"):
                self.read_problems.append(
                    f"{path}: read bytes {start}-{end}, past the end of the leaf data "
                    f"at byte {self.layout.data_end}"
                )
        problem = compare_loaded(path, leaf, new)
        if problem is not None:
            self.value_problems.append(problem)
        return new

    def _failed(self, path: str, leaf: Any, start: int, error: Exception) -> None:
        layout = self.layout
        self.f.seek(start)
        if start >= layout.data_end and layout.stop in ("eof", "manifest"):
            self.reads.append(_Read(path, leaf_meta(leaf), start, None))
            return
        reason = f"{type(error).__name__}: {error}"
        if start not in layout.records and layout.truncated is not None:
            reason = layout.truncated
        elif start not in layout.records:
            head = self.f.read(8)
            self.f.seek(start)
            reason = f"no .npy record starts there (found {head!r}); {reason}"
        self.read_problems.append(f"{path}: cannot be read at byte {start}: {reason}")
        end = layout.records.get(start)
        if end is None:
            self.lost_at = start
            return
        self.reads.append(_Read(path, leaf_meta(leaf), start, end))
        self.f.seek(end)

    def finish(self, whole_file: bool) -> None:
        """Raise one `CheckpointError` listing every problem found; otherwise leave
        the position after the tree (and its manifest)."""
        pos = self.f.tell()
        layout = self.layout
        if layout.manifest is None and layout.stop == "unknown":
            layout.data_end = pos
            read_manifest(self.f, layout, self.name)
            if layout.manifest is not None:
                verify_data(self.f, layout, self.name)
                self.f.seek(layout.manifest_end or pos)
        problems = self._problems(pos, whole_file)
        if problems:
            raise CheckpointError(self._message(problems))
        if layout.manifest_end is not None and pos == layout.data_end:
            self.f.seek(layout.manifest_end)

    def _problems(self, pos: int, whole_file: bool) -> list[str]:
        layout = self.layout
        missing = [
            f"{r.path}: {describe(r.meta)} in `like`, not in the file (its leaves end "
            f"at byte {layout.data_end})"
            for r in self.reads
            if r.end is None
        ]
        if self.lost_at is not None:
            missing.append(
                f"(reading stopped at byte {self.lost_at}; later leaves unchecked)"
            )
        if layout.manifest is not None:
            problems = _manifest_problems(layout, self.reads)
            if problems:
                return problems
            problems = self.read_problems + self.value_problems + missing
        else:
            problems = self.read_problems + self.value_problems + missing
        problems += self._trailing(pos, whole_file)
        return problems

    def _trailing(self, pos: int, whole_file: bool) -> list[str]:
        layout = self.layout
        if self.lost_at is not None or any(r.end is None for r in self.reads):
            return []
        if layout.manifest is not None:
            if pos != layout.data_end:
                return [
                    f"`like` reads up to byte {pos}; leaves end at {layout.data_end}"
                ]
            end = layout.manifest_end
            if whole_file and end is not None and end < layout.size:
                return [
                    f"{layout.size - end} bytes of trailing data after the manifest"
                ]
            return []
        if whole_file and pos < layout.size:
            later = [e for s, e in layout.records.items() if s >= pos]
            return [
                f"{layout.size - pos} bytes of trailing data after the last leaf "
                f"`like` reads (byte {pos}; {len(later)} more .npy records): `like` "
                "has fewer leaves than the file"
            ]
        return []

    def _message(self, problems: list[str]) -> str:
        lines = "\n".join(f"  - {p}" for p in problems)
        if self.layout.manifest is None:
            lines += (
                "\n  (the file has no typedeqx manifest, as Equinox writes it, so "
                "leaves are matched by position)"
            )
        return (
            f"Cannot load {self.name}: the file and `like` disagree; nothing was "
            f"loaded.\n{lines}\nBuild `like` with the configuration that saved the "
            "file (e.g. `typedeqx.filter_eval_shape(Model, ...)`), or pass a "
            "`filter_spec` that skips the leaves that differ."
        )


def _manifest_problems(layout: Layout, reads: list[_Read]) -> list[str]:
    assert layout.manifest is not None
    entries = layout.manifest.entries
    stored = {e.path: e for e in entries}
    wanted = {r.path: r for r in reads}
    file_order = [e.path for e in entries]
    like_order = [r.path for r in reads]
    problems = [
        f"{r.path}: {describe(r.meta)} in `like`, not in the file"
        for r in reads
        if r.path not in stored
    ]
    problems += [
        f"{e.path}: {describe((e.shape, e.dtype) if e.shape is not None else None)} "
        "in the file, not in `like`"
        for e in entries
        if e.path not in wanted
    ]
    in_like = [p for p in like_order if p in stored]
    in_file = [p for p in file_order if p in wanted]
    for i, (a, b) in enumerate(zip(in_like, in_file)):
        if a != b:
            problems.append(
                f"{a}: leaf {i} of `like` but leaf {in_file.index(a)} of the file "
                "(reordered)"
            )
    for path in in_like:
        problems += _entry_problems(path, stored[path], wanted[path].meta)
    return problems


def _entry_problems(path: str, entry: Any, meta: Meta | None) -> list[str]:
    if meta is None or entry.shape is None:
        return []
    shape, dtype = meta
    if tuple(entry.shape) != shape:
        return [f"{path}: shape {shape} in `like`, {tuple(entry.shape)} in the file"]
    if dtype is not None and entry.dtype is not None and entry.dtype != dtype:
        return [f"{path}: dtype {dtype} in `like`, {entry.dtype} in the file"]
    return []
