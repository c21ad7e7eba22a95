"""Saving the leaves of a PyTree: Equinox's `.npy` records, with typedeqx's comment
in each header when every leaf is saved by the default filter spec."""

import json
import pathlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

import jax
import jax.tree_util as jtu
import numpy as np

from .._filters import is_array_like
from ._atomic import atomic_write
from ._checksum import record_crc
from ._error import CheckpointError
from ._manifest import pieces, root_name, static_map
from ._npy import checksum, dict_text, header_bytes

_CHUNK = 1 << 26
# Untyped in JAX's stubs (`PyTreeDef.flatten_up_to` is missing there).
_flatten_with_path: Any = jtu.tree_flatten_with_path


@runtime_checkable
class SupportsWrite(Protocol):
    def write(self, s: bytes, /) -> object: ...


def check_addressable(path: str, leaf: Any) -> None:
    """Refuse an array that spans processes: this process holds only part of it."""
    if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
        raise CheckpointError(
            f"Cannot save {f'the leaf at {path}' if path else 'a leaf'}: it is a "
            f"jax.Array of shape "
            f"{tuple(leaf.shape)} and dtype {leaf.dtype} sharded across processes "
            "(`is_fully_addressable` is False), so this process holds only part of it. "
            "Save sharded checkpoints with orbax.checkpoint, where each process writes "
            "its own shards, or gather the array first with "
            "`jax.experimental.multihost_utils.process_allgather(x, tiled=True)`."
        )


def default_serialise_filter_spec(f: SupportsWrite, x: Any) -> None:
    """Save one leaf: arrays and Python `bool`/`int`/`float`/`complex` as a `.npy`
    record; anything else is skipped.

    **Arguments:**

    - `f`: a binary file-like object to write to.
    - `x`: the leaf to save.

    **Returns:**

    Nothing.
    """
    if is_array_like(x):
        check_addressable("", x)
        sink: Any = f  # NumPy's writer accepts any object with `write`
        np.save(sink, x)  # as `jnp.save`; a bfloat16 array is stored as 2-byte void


def spec_leaves(
    filter_spec: Any, tree: Any, is_leaf: Callable[[Any], bool] | None
) -> Iterator[tuple[str, Callable[..., Any], Any]]:
    """Each leaf in depth-first order, with its key path and its filter spec."""
    specs, spec_def = _flatten_with_path(filter_spec)
    for (outer, spec), sub in zip(specs, spec_def.flatten_up_to(tree)):
        for inner, leaf in jtu.tree_flatten_with_path(sub, is_leaf=is_leaf)[0]:
            yield jtu.keystr(tuple(outer) + tuple(inner)), spec, leaf


def _write_all(f: Any, data: memoryview) -> None:
    for i in range(0, len(data), _CHUNK):
        chunk = data[i : i + _CHUNK]
        while len(chunk):
            written = f.write(chunk)
            chunk = chunk[len(chunk) if written is None else written :]


def _as_record(leaf: Any) -> tuple[str, memoryview]:
    """The header dict and the data bytes NumPy would write for `leaf`, without a
    copy for a contiguous array."""
    array = np.asarray(leaf)
    text = dict_text(array)
    if array.flags.c_contiguous:
        flat = array.reshape(-1)
    elif array.flags.f_contiguous:
        flat = array.T.reshape(-1)
    else:
        flat = np.ascontiguousarray(array).reshape(-1)
    return text, flat.view(np.uint8).data


def _refuse_unsaveable(root: str, leaves: list[tuple[str, Any]]) -> None:
    for path, leaf in leaves:
        check_addressable(root + path, leaf)
        if np.asarray(leaf).dtype.hasobject:
            raise CheckpointError(
                f"Cannot save the leaf at {root + path or 'the root'}: it is an "
                "object array, whose elements are Python objects that a checkpoint "
                "does not store by value (Equinox would pickle them). Convert it to "
                "a numeric array, or skip it with a `filter_spec`."
            )


def _plan(tree: Any, leaves: list[tuple[str, Any]], is_leaf: Any) -> list[Any]:
    """Each record's header dict, comment template, data, and checksum (already
    being computed on the workers)."""
    parts = pieces([path for path, _ in leaves], static_map(tree, is_leaf), len(leaves))
    whole = checksum("".join(parts).encode())
    records = []
    for i, ((_, leaf), part) in enumerate(zip(leaves, parts)):
        text, data = _as_record(leaf)
        fields: dict[str, Any] = {"i": i, "n": len(leaves), "m": part}
        if i == 0:
            fields["mc"] = f"{whole:08x}"
        comment = json.dumps(fields, separators=(",", ":"))[:-1] + ',"c":"%08x"}'
        crc = record_crc(header_bytes(text, comment % 0)[0], data)
        records.append((text, comment, data, crc))
    return records


def _write_records(
    f: Any, tree: Any, is_leaf: Callable[[Any], bool] | None, own: bool
) -> None:
    """Write every array leaf as a record. In a file this save `own`s (a path's
    temporary file), each header is written with a blank checksum that is filled in
    once the workers have computed it, so the data is checksummed while it is
    written; in another file object, each checksum is awaited before its record."""
    leaves = [
        (path, leaf)
        for path, _, leaf in spec_leaves(default_serialise_filter_spec, tree, is_leaf)
        if is_array_like(leaf)
    ]
    _refuse_unsaveable(root_name(tree), leaves)
    blanks = []
    for text, comment, data, crc in _plan(tree, leaves, is_leaf):
        signed, rest = header_bytes(text, comment % (0 if own else crc.result()))
        if own:
            blanks.append((f.tell() + len(signed) + rest.rindex(b'"c":"') + 5, crc))
        f.write(signed + rest)
        _write_all(f, data)
    if blanks:
        end = f.tell()
        for at, crc in blanks:
            f.seek(at)
            f.write(b"%08x" % crc.result())
        f.seek(end)


def _write_with_spec(
    f: Any, tree: Any, filter_spec: Any, is_leaf: Callable[[Any], bool] | None
) -> None:
    root = root_name(tree)
    for path, spec, leaf in spec_leaves(filter_spec, tree, is_leaf):
        path = root + path
        try:
            spec(f, leaf)
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(  # Equinox's phrase first, for tests that match it
                f"Error at leaf with path {path or 'the root'}: cannot save it "
                f"({type(leaf).__name__}): the filter spec raised "
                f"{type(e).__name__}: {e}. A path argument keeps its old contents."
            ) from e


def _is_default(filter_spec: Any) -> bool:
    specs = jtu.tree_leaves(filter_spec)
    return bool(specs) and all(s is default_serialise_filter_spec for s in specs)


def with_suffix(path: str | pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(path)
    return path.with_suffix(".eqx") if path.suffix == "" else path


def tree_serialise_leaves(
    path_or_file: str | pathlib.Path | SupportsWrite,
    pytree: Any,
    filter_spec: Any = default_serialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
    *,
    durable: bool = False,
) -> None:
    """Save the leaves of a PyTree to a file, in the format Equinox reads.

    **Arguments:**

    - `path_or_file`: a path (`.eqx` is added when it has no suffix) or a binary
        file-like object. A path is replaced atomically: the old file stays whole
        until the new one is complete, even if the process is killed. This writes a
        temporary file beside the target (through a symlink, beside its target), so
        the directory must be writable; the file keeps its permissions, and its
        owner where the process may set it.
    - `pytree`: the PyTree whose leaves are saved.
    - `filter_spec`: how to save each leaf, a function `(file, leaf) -> None`, or a
        PyTree prefix of `pytree` of such functions. By default arrays and Python
        scalars are saved and other leaves skipped. With the default, each record
        carries typedeqx's checksums and manifest; a custom function's bytes are
        written as they are, without them.
    - `is_leaf`: called on every node of `pytree`; `True` makes it a leaf.
    - `durable`: for a path, also wait until the new file is on disk (fsync of the
        file, then of its directory), so that a crash of the whole machine or a
        power cut leaves the old file or the new one whole. Off by default, as in
        Equinox: a killed process never needs it, and on a fast disk it doubles the
        time of a large save (on a slow or network disk, more).

    **Returns:**

    Nothing.

    Raises `CheckpointError` for an array sharded across processes (use orbax) and
    when the filter spec fails.
    """

    def write(f: Any, own: bool) -> None:
        if _is_default(filter_spec):
            _write_records(f, pytree, is_leaf, own)
        else:
            _write_with_spec(f, pytree, filter_spec, is_leaf)

    if isinstance(path_or_file, (str, pathlib.Path)):
        with atomic_write(with_suffix(path_or_file), durable) as f:
            write(f, own=True)
    else:
        write(path_or_file, own=False)
