"""Reading one tree of a checkpoint once, in order, checking every record as its
bytes pass.

The filter spec reads through a `TreeReader` as through a file. The reader frames
the bytes into `.npy` records: it parses each header itself (bounded, see `_npy.py`),
checksums the header and data while they are read, and, for a typedeqx tree, knows
from the first record how many records the tree has, so that a read past the tree's
last record sees the end of the file rather than the next tree.
"""

import math
from typing import Any, NoReturn

from ._checksum import Running
from ._error import CheckpointError
from ._manifest import Manifest, decode
from ._npy import Header, RecordError, checksum, parse_header

_CHUNK = 1 << 23


def tell(f: Any) -> int:
    return int(f.tell()) if hasattr(f, "tell") else int(f.seek(0, 1))


class Source:
    """The file under a reader: absolute positions, and a count of bytes read."""

    def __init__(self, f: Any):
        self.f = f
        self.pos = tell(f)
        f.seek(0, 2)
        self.size = tell(f)
        f.seek(self.pos)
        self.bytes_read = 0

    def seek(self, pos: int) -> None:
        if pos != self.pos:
            self.f.seek(pos)
            self.pos = pos

    def read(self, n: int) -> bytes:
        parts, left = [], n
        while left > 0:
            data = self.f.read(left)
            if not data:
                break
            parts.append(data)
            left -= len(data)
        out = b"".join(parts)
        self.pos += len(out)
        self.bytes_read += len(out)
        return out

    def readinto(self, view: memoryview) -> int:
        if not hasattr(self.f, "readinto"):
            data = self.read(len(view))
            view[: len(data)] = data
            return len(data)
        done = 0
        while done < len(view):
            got = self.f.readinto(view[done:])
            if not got:
                break
            done += got
        self.pos += done
        self.bytes_read += done
        return done


class TreeReader:
    """A file-like view of one tree that checks each record as it is read."""

    def __init__(self, source: Source, name: str):
        self.src = source
        self.name = name
        self.start = self.cursor = self.frontier = source.pos
        self.mode: str | None = None  # "typedeqx", "plain" (Equinox's) or "unframed"
        self.n = 0
        self.headers: list[Header] = []
        self.readers: list[str] = []  # the `like` leaf that opened each record
        self.comments: list[dict[str, Any]] = []
        self.current: Header | None = None
        self.left = 0
        self.crc = Running()
        self.end: int | None = None
        self.loading = ""
        self.failed: CheckpointError | None = None
        self._cache = (self.start, b"")

    # -- the file protocol, for the filter spec ---------------------------------
    def tell(self) -> int:
        return self.cursor

    def seek(self, offset: int, whence: int = 0, /) -> int:
        base = (0, self.cursor, self.end if self.end is not None else self.src.size)
        self.cursor = max(0, base[whence] + offset)
        return self.cursor

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self.read(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        buffer = bytearray(size)
        return bytes(buffer[: self.readinto(buffer)])

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):
            if self.cursor < self.frontier:
                got = self._reread(view[done:])
            elif self.cursor > self.frontier:
                if not self._advance(self.cursor):
                    break
                continue
            elif self.mode == "unframed":
                self.src.seek(self.frontier)
                got = self.src.readinto(view[done:])
                self.frontier += got
            elif self.current is None:
                if self._open() is None and self.mode != "unframed":
                    break
                continue
            else:
                got = self._data(view[done:])
            if not got:
                break
            done += got
            self.cursor += got
        self.crc.value()  # the caller may reuse its buffer once this returns
        return done

    def header_here(self) -> Header | None:
        """The header of the record at the position, already parsed and checked,
        with the position moved to its data; None when the tree has ended."""
        if self.cursor != self.frontier or self.current is not None:
            return None
        if self.mode == "unframed" or self._open() is None:
            return None
        self.cursor = self.frontier
        return self.current

    # -- framing ----------------------------------------------------------------
    def fail(
        self, at: int, what: str, opened: bool = False, where: str = ""
    ) -> NoReturn:
        if not where:
            where = f"record {len(self.headers) - opened}"
            if self.mode == "typedeqx":
                where += f" of {self.n}"
            if self.loading:
                where += f", read for {self.loading}"
        self.failed = CheckpointError(
            f"Cannot load {self.name}: {what} (at byte {at}; {where}). The file is "
            "damaged or truncated: restore it from a copy or save it again."
        )
        raise self.failed

    def _reread(self, view: memoryview) -> int:
        start, cached = self._cache
        n = min(len(view), self.frontier - self.cursor)
        if start <= self.cursor and self.cursor + n <= start + len(cached):
            view[:n] = cached[self.cursor - start : self.cursor - start + n]
            return n
        self.src.seek(self.cursor)
        return self.src.readinto(view[:n])

    def _advance(self, target: float) -> bool:
        """Read and check up to `target`; False when the tree ends first."""
        scratch: memoryview | None = None  # made only when data is skipped
        while self.frontier < target:
            if self.mode == "unframed":
                self.frontier = int(min(target, self.src.size))
                return self.frontier >= target
            if self.current is None:
                if self._open() is None and self.mode != "unframed":
                    return False
                continue
            if scratch is None:
                scratch = memoryview(bytearray(1 << 20))
            self._data(scratch[: int(min(len(scratch), target - self.frontier))])
            self.crc.value()  # before the scratch buffer is reused
        return True

    def _open(self) -> Header | None:
        """Parse the record at the frontier; None when the tree ends here."""
        if self.end is not None:
            return None
        at = self.frontier
        if self.mode == "typedeqx" and len(self.headers) == self.n:
            self.end = at
            return None
        self.src.seek(at)
        got: list[bytes] = []

        def read(k: int) -> bytes:
            got.append(self.src.read(k))
            return got[-1]

        try:
            header = parse_header(read, at, self.src.size - at)
        except RecordError as e:
            if self.mode == "typedeqx":
                self.fail(at, f"record {len(self.headers)} is unreadable: {e}")
            if e.foreign:
                if at >= self.src.size:
                    self.end = at
                else:
                    self.mode = "unframed"
                self.src.seek(at)
                return None
            self.fail(at, f"the .npy record is unreadable: {e}")
        if not self._admit(header):
            self.end = at
            self.src.seek(at)
            return None
        self._cache = (at, b"".join(got))
        self.headers.append(header)
        self.readers.append(self.loading)
        self.current, self.left = header, header.nbytes
        self.crc = Running(header.signed)
        self.frontier = header.data_start
        if self.left == 0:
            self._close()
        return header

    def _admit(self, header: Header) -> bool:
        """Check the record's place in the tree; False if a new tree starts here."""
        c = header.comment
        index = len(self.headers)
        if c is None:
            if self.mode == "typedeqx":
                self.fail(header.start, "the record has lost typedeqx's header comment")
            self.mode = "plain"
            return True
        if not _valid_comment(c):
            self.fail(header.start, "typedeqx's header comment is damaged")
        if self.mode == "plain":  # a typedeqx tree after an Equinox tree
            if c["i"] != 0:
                self.fail(
                    header.start, "a typedeqx record appears inside an Equinox tree"
                )
            return False
        if self.mode is None:
            if c["i"] != 0 or "mc" not in c:
                self.fail(
                    header.start, f"the stream starts inside a typedeqx tree ({c['i']})"
                )
            self.mode, self.n = "typedeqx", c["n"]
        if c["i"] != index or c["n"] != self.n:
            self.fail(
                header.start,
                f"the header says record {c['i']} of {c['n']}, expected {index} of "
                f"{self.n}",
            )
        self.comments.append(c)
        return True

    def _data(self, view: memoryview) -> int:
        n = min(len(view), self.left, _CHUNK)
        self.src.seek(self.frontier)
        got = self.src.readinto(view[:n])
        if got < n:
            assert self.current is not None
            short = self.left - got
            self.fail(
                self.current.start,
                f"the file ends inside the record's data ({short} bytes short)",
                opened=True,
            )
        self.crc.add(view[:got])
        self.frontier += got
        self.left -= got
        if self.left == 0:
            self._close()
        return got

    def _close(self) -> None:
        header = self.current
        assert header is not None
        self.current = None
        crc = self.crc.value()
        if self.mode == "typedeqx" and f"{crc:08x}" != self.comments[-1]["c"]:
            self.fail(
                header.start,
                f"the record's bytes fail their checksum (shape {header.shape}, dtype "
                f"{header.dtype})",
                opened=True,
            )
        if self.mode == "typedeqx" and len(self.headers) == self.n:
            self.end = self.frontier

    # -- the end of the tree ----------------------------------------------------
    def finish(self) -> Manifest | None:
        """Read and check the records `like` did not read; the tree's manifest."""
        if self.mode != "typedeqx":
            return None
        self.loading = ""
        self._advance(math.inf)
        first = self.comments[0]
        text = "".join(c["m"] for c in self.comments)
        where = f"the tree's manifest, kept in the headers of its {self.n} records"
        if f"{checksum(text.encode()):08x}" != first["mc"]:
            self.fail(self.start, "typedeqx's manifest fails its checksum", where=where)
        try:
            return decode(text)
        except ValueError as e:
            self.fail(
                self.start, f"typedeqx's manifest is unreadable ({e})", where=where
            )

    def stop(self) -> int:
        """Where the next reader of the stream starts."""
        return (
            self.end
            if self.mode == "typedeqx" and self.end is not None
            else self.cursor
        )


def _valid_comment(c: dict[str, Any]) -> bool:
    ints = all(type(c.get(k)) is int and c[k] >= 0 for k in ("i", "n"))
    strings = all(isinstance(c.get(k), str) for k in ("c", "m"))
    return (
        ints
        and strings
        and c["i"] < c["n"]
        and (c["i"] != 0 or isinstance(c.get("mc"), str))
    )
