"""The manifest typedeqx appends after a checkpoint's leaves, and the layout of a file.

A checkpoint is a run of NumPy `.npy` records, one per saved leaf, exactly as
Equinox writes it. After the last record typedeqx appends one block:

    MAGIC | u64 json length | JSON | sha256(JSON) | END_MAGIC

The JSON lists each stored leaf (key path, byte offset and length, shape, dtype),
the tree structure, and a sha256 of all leaf bytes. Equinox's reader reads one
record per leaf and stops, so it never sees the block.
"""

import dataclasses
import hashlib
import io
import json
import struct
from typing import Any, Protocol

import numpy as np

from ._checkpoint_error import CheckpointError

MAGIC = b"\x00TDQXMF\x01"
END_MAGIC = b"\x00TDQXEND"
_NPY_MAGIC = b"\x93NUMPY"
_LEN = struct.Struct("<Q")
_CHUNK = 1 << 24


class ReadSeek(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...


@dataclasses.dataclass(frozen=True)
class Entry:
    """One stored leaf: its key path, where its bytes lie (relative to the start of
    the tree's data), and its shape and dtype when the bytes are one `.npy` record."""

    path: str
    offset: int
    nbytes: int
    shape: tuple[int, ...] | None
    dtype: str | None


@dataclasses.dataclass(frozen=True)
class Manifest:
    entries: tuple[Entry, ...]
    treedef: str
    data_bytes: int
    data_sha256: str


def npy_header(data: bytes) -> tuple[tuple[int, ...], np.dtype[Any]] | None:
    """The shape and dtype in the `.npy` header at the start of `data`, if any."""
    if not data.startswith(_NPY_MAGIC):
        return None
    try:
        return _read_header(io.BytesIO(data))[:2]
    except (ValueError, OSError):
        return None


def _read_header(f: Any) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """Parse one `.npy` header from `f`; returns shape, dtype and the data length."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        raise ValueError("object arrays are not stored by value")
    return tuple(shape), dtype, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


def encode(manifest: Manifest) -> bytes:
    """The manifest block's bytes."""
    payload = {
        "format": "typedeqx.leaves",
        "version": 1,
        "treedef": manifest.treedef,
        "data_bytes": manifest.data_bytes,
        "data_sha256": manifest.data_sha256,
        "leaves": [dataclasses.asdict(e) for e in manifest.entries],
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).digest()
    return MAGIC + _LEN.pack(len(body)) + body + digest + END_MAGIC


def _decode(body: bytes) -> Manifest:
    raw = json.loads(body)
    entries = tuple(
        Entry(
            path=e["path"],
            offset=e["offset"],
            nbytes=e["nbytes"],
            shape=None if e["shape"] is None else tuple(e["shape"]),
            dtype=e["dtype"],
        )
        for e in raw["leaves"]
    )
    return Manifest(entries, raw["treedef"], raw["data_bytes"], raw["data_sha256"])


@dataclasses.dataclass
class Layout:
    """What a scan of the file found, from the tree's first byte.

    `records` maps each `.npy` record's offset to its end; `data_end` is where the
    records stop (the manifest's start, the end of the file, or unknown bytes);
    `manifest_end` is where the manifest block ends, when there is one; `stop` says
    why the scan stopped: "eof", "manifest", "unknown" bytes or "truncated".
    """

    start: int
    size: int
    records: dict[int, int]
    data_end: int
    manifest: Manifest | None = None
    manifest_end: int | None = None
    truncated: str | None = None
    stop: str = "eof"


def scan(f: ReadSeek, name: str) -> Layout:
    """Walk the `.npy` records from the current position, reading only headers, and
    the manifest after them; leave the position where it was."""
    start = f.tell()
    size = f.seek(0, 2)
    f.seek(start)
    layout = Layout(start, size, {}, start)
    pos = start
    while pos < size:
        head = f.read(len(MAGIC))
        f.seek(pos)
        if head == MAGIC:
            layout.stop = "manifest"
            break
        if not head.startswith(_NPY_MAGIC):
            layout.stop = "unknown"
            break
        try:
            _, _, nbytes = _read_header(f)
        except (ValueError, OSError):
            layout.stop = "unknown"
            break
        end = f.tell() + nbytes
        if end > size:
            layout.stop = "truncated"
            layout.truncated = (
                f"the file is truncated: the record at byte {pos} needs {end - pos} "
                f"bytes but only {size - pos} remain"
            )
            break
        layout.records[pos] = end
        pos = end
        f.seek(pos)
    layout.data_end = pos
    if layout.stop == "manifest":
        f.seek(pos)
        read_manifest(f, layout, name)
    f.seek(start)
    return layout


def read_manifest(f: ReadSeek, layout: Layout, name: str) -> None:
    """Read and verify the manifest block at the current position into `layout`."""
    pos = f.tell()
    head = f.read(len(MAGIC) + _LEN.size)
    if len(head) < len(MAGIC) + _LEN.size or not head.startswith(MAGIC):
        f.seek(pos)
        return
    (length,) = _LEN.unpack(head[len(MAGIC) :])
    body = f.read(length) if length <= layout.size else b""
    digest = f.read(32)
    tail = f.read(len(END_MAGIC))
    if len(body) != length or tail != END_MAGIC:
        raise CheckpointError(
            f"Cannot load {name}: its typedeqx manifest at byte {pos} is truncated. "
            "The file was cut short after the leaves; save the model again."
        )
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError(
            f"Cannot load {name}: its typedeqx manifest at byte {pos} fails its "
            "checksum, so the file is corrupt. Restore it from a copy or save again."
        )
    try:
        layout.manifest = _decode(body)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(
            f"Cannot load {name}: its typedeqx manifest at byte {pos} is not valid "
            f"({type(e).__name__}). Save the model again."
        ) from e
    layout.manifest_end = f.tell()


def verify_data(f: ReadSeek, layout: Layout, name: str) -> None:
    """Check the leaf bytes against the manifest's length and sha256."""
    assert layout.manifest is not None
    manifest = layout.manifest
    stored = layout.data_end - layout.start
    hasher = hashlib.sha256()
    f.seek(layout.start)
    left = stored
    while left > 0:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            break
        hasher.update(chunk)
        left -= len(chunk)
    f.seek(layout.start)
    if stored != manifest.data_bytes or hasher.hexdigest() != manifest.data_sha256:
        raise CheckpointError(
            f"Cannot load {name}: its leaf data ({stored} bytes) does not match the "
            f"checksum its manifest recorded ({manifest.data_bytes} bytes), so the "
            "file is corrupt. Restore it from a copy or save again."
        )
