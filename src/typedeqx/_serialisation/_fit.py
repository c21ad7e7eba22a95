"""How a checkpoint's tree and `like` differ: every difference is collected while the
leaves load, so that one error can list them all, by path."""

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ._error import CheckpointError
from ._manifest import (
    Manifest,
    paths_checksum,
    root_name,
    static_map,
    static_problems,
)
from ._npy import Header
from ._reader import TreeReader

Meta = tuple[tuple[int, ...], str]
_KINDS = {"bool": "b", "int": "iu", "float": "f", "complex": "c"}


def leaf_meta(leaf: Any) -> Meta | None:
    """Shape and dtype of an array-like `like` leaf (`Python float` for a scalar)."""
    # A NumPy scalar (`np.float64` subclasses `float`) is read by its dtype.
    if isinstance(leaf, (bool, int, float, complex)) and not hasattr(leaf, "dtype"):
        return (), f"Python {type(leaf).__name__}"
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is not None and dtype is not None:
        return tuple(shape), str(dtype)
    return None


def describe(meta: Meta | None) -> str:
    if meta is None:
        return "no array"
    shape, dtype = meta
    return dtype if dtype.startswith("Python") else f"{dtype}{list(shape)}"


def _file_dtype(header: Header, want: str) -> str:
    if header.dtype == np.dtype("V2") and want == "bfloat16":
        return "bfloat16"  # NumPy stores bfloat16 as 2-byte void
    return str(header.dtype)


def header_problem(path: str, header: Header, meta: Meta | None) -> str | None:
    """How a record's shape and dtype differ from its `like` leaf's."""
    if meta is None:
        return None
    shape, dtype = meta
    if header.shape != shape:
        return f"{path}: shape {header.shape} in the file, {shape} in `like`"
    if dtype.startswith("Python "):
        if header.dtype.kind not in _KINDS[dtype[7:]]:
            return f"{path}: dtype {header.dtype} in the file, {dtype} in `like`"
        return None
    if _file_dtype(header, dtype) != dtype:
        return (
            f"{path}: dtype {_file_dtype(header, dtype)} in the file, {dtype} in `like`"
        )
    return None


_array_type: list[type] = []


def _loaded_array_type() -> type:
    # ArrayImpl is not public; a `ShapeDtypeStruct` in `like` becomes one on load.
    # `device_put` compiles nothing (a first `jnp.zeros` compiles, costing 26 MB).
    if not _array_type:
        with jax.ensure_compile_time_eval():
            _array_type.append(type(jax.device_put(np.zeros((), np.float32))))
    return _array_type[0]


def value_problem(path: str, old: Any, new: Any) -> str | None:
    """How a loaded leaf differs from its `like` leaf, as Equinox checks it."""
    old_type = _loaded_array_type() if type(old) is jax.ShapeDtypeStruct else type(old)
    if type(new) is not old_type:
        return (
            f"{path}: {type(new).__name__} in the file, {old_type.__name__} in `like`"
        )
    if isinstance(new, (np.ndarray, jax.Array)):
        if new.shape != old.shape:
            return (
                f"{path}: shape {new.shape} in the file, {tuple(old.shape)} in `like`"
            )
        if new.dtype != old.dtype:
            return f"{path}: dtype {new.dtype} in the file, {old.dtype} in `like`"
    return None


@dataclasses.dataclass
class _Read:
    path: str
    meta: Meta | None
    record: int | None  # the first record it read; None: the tree had no more


class Fit:
    """Loads `like`'s leaves through the reader and collects every difference."""

    def __init__(self, reader: TreeReader, like: Any, is_leaf: Any, strict: bool):
        self.reader = reader
        self.like, self.is_leaf, self.strict = like, is_leaf, strict
        self.root = root_name(like)
        self.reads: list[_Read] = []
        self.problems: list[str] = []
        self.lost = False

    def load(self, path: str, spec: Callable[[Any, Any], Any], leaf: Any) -> Any:
        if self.lost:
            return leaf
        r = self.reader
        shown = self.root + path
        r.loading = shown or "the root"
        start, opened = r.cursor, len(r.headers)
        try:
            new = spec(r, leaf)
        except Exception as e:
            if r.failed is not None:
                raise r.failed from None
            if r.cursor == start and r.end is not None and start >= r.end:
                self.reads.append(_Read(path, leaf_meta(leaf), None))
                return leaf
            reason = getattr(e, "reason", None) or f"{type(e).__name__}: {e}"
            self.problems.append(  # Equinox's phrase first, for tests that match it
                f"Error at leaf with path {shown}: cannot be read at byte {start}: "
                f"{reason}"
            )
            self.lost = True
            return leaf
        if r.cursor != start:
            self.reads.append(_Read(path, leaf_meta(leaf), opened))
            header = r.headers[opened] if opened < len(r.headers) else None
            if header is not None and isinstance(
                leaf, (bool, int, float, complex, np.generic)
            ):
                self._add(header_problem(shown, header, leaf_meta(leaf)))
        self._add(value_problem(shown, leaf, new))
        return new

    def _add(self, problem: str | None) -> None:
        if problem is not None:
            self.problems.append(problem)

    def finish(self, whole_file: bool) -> None:
        """Raise one `CheckpointError` listing every difference, or position the
        stream after the tree."""
        r = self.reader
        manifest = r.finish()
        if manifest is not None and self.strict:
            problems = self._manifest_problems(manifest) or self.problems
        else:
            problems = self.problems + self._missing() + self._extra(manifest)
        stop = r.stop()
        if whole_file and not problems and stop < r.src.size:
            problems = [
                f"{r.src.size - stop} bytes of trailing data after byte {stop}, where "
                "the leaves `like` reads end: the file holds more than `like`"
            ]
        if problems:
            raise CheckpointError(self._message(problems, manifest is not None))
        r.src.seek(stop)

    def _missing(self) -> list[str]:
        return [
            f"{self.root}{x.path}: not in the file; {describe(x.meta)} in `like`"
            for x in self.reads
            if x.record is None
        ]

    def _extra(self, manifest: Manifest | None) -> list[str]:
        r = self.reader
        if manifest is None or self.lost:
            return []
        paths = manifest.paths or [f"(record {i})" for i in range(len(r.headers))]
        return [
            f"{self.root}{path}: {h.dtype}{list(h.shape)} in the file (byte "
            f"{h.start}); not read by `like`"
            for path, h, reader in zip(paths, r.headers, r.readers)
            if not reader
        ]

    def _manifest_problems(self, manifest: Manifest) -> list[str]:
        like = static_map(self.like, self.is_leaf)
        return static_problems(manifest, like, self.root) + self._leaf_problems(
            manifest
        )

    def _leaf_problems(self, manifest: Manifest) -> list[str]:
        r, root = self.reader, self.root
        if manifest.paths is None:
            if manifest.paths_crc == paths_checksum([x.path for x in self.reads]):
                return []
            return [
                "the saved leaves' paths differ from those `like` reads (the file "
                "is too large to record them in full, so only their checksum was kept)"
            ]
        stored = dict(zip(manifest.paths, r.headers))
        wanted = {x.path: x for x in self.reads}
        problems = [
            f"{root}{x.path}: not in the file; {describe(x.meta)} in `like`"
            for x in self.reads
            if x.path not in stored
        ]
        problems += [
            f"{root}{p}: {h.dtype}{list(h.shape)} in the file; not in `like`"
            for p, h in stored.items()
            if p not in wanted
        ]
        in_like = [x.path for x in self.reads if x.path in stored]
        in_file = [p for p in manifest.paths if p in wanted]
        for i, (a, b) in enumerate(zip(in_like, in_file)):
            if a != b:
                problems.append(
                    f"{root}{a}: leaf {in_file.index(a)} of the file but leaf {i} of "
                    "`like` (reordered)"
                )
        for path in in_like:
            meta = wanted[path].meta
            if meta is not None and meta[1].startswith("Python "):
                continue  # the static configuration names a scalar's type
            problem = header_problem(root + path, stored[path], meta)
            if problem is not None:
                problems.append(problem)
        return problems

    def _message(self, problems: list[str], typed: bool) -> str:
        lines = "\n".join(f"  - {p}" for p in problems)
        migrate = (
            ", or pass `strict=False` to load into a deliberately changed configuration"
            if typed and self.strict
            else ""
        )
        if not typed:
            lines += (
                "\n  (the file has no typedeqx manifest, as Equinox writes it, so "
                "leaves are matched by position)"
            )
        return (
            f"Cannot load {self.reader.name}: the file and `like` disagree; nothing "
            f"was loaded.\n{lines}\nBuild `like` with the configuration that saved "
            "the file (e.g. `typedeqx.filter_eval_shape(Model, ...)`), or pass a "
            f"`filter_spec` that skips the leaves that differ{migrate}."
        )
