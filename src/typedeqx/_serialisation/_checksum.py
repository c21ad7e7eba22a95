"""CRC-32 of records, computed on worker threads so that it overlaps the reading or
writing of the bytes (zlib releases the GIL while it works).

A load checksums one record's chunks in order as they arrive (`Running`). A save
knows every record up front, so their checksums are independent tasks that the
workers compute side by side (`record_crc`)."""

import os
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_INLINE = 1 << 20  # smaller chunks are cheaper to checksum than to hand over
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _workers() -> ThreadPoolExecutor:
    global _pool
    # A forked child inherits the executor but not its threads: make a new one.
    if _pool is None or _pool[0] != os.getpid():
        count = max(1, min(4, os.cpu_count() or 1))
        _pool = (os.getpid(), ThreadPoolExecutor(count, "typedeqx-checksum"))
    return _pool[1]


class Running:
    """The CRC-32 of chunks added in order; large chunks are checksummed on a
    worker while the caller goes on. Each step waits for the one before it, which
    was queued earlier, so the steps run in order on any number of workers."""

    def __init__(self, start: Any = b""):
        self._value = zlib.crc32(start)
        self._pending: Future[int] | None = None

    def add(self, chunk: Any) -> None:
        """Add `chunk`, which must not change until `value()` returns."""
        if len(chunk) < _INLINE:
            self._value = zlib.crc32(chunk, self.value())
            return
        before, base = self._pending, self._value
        self._pending = _workers().submit(_step, before, base, chunk)

    def value(self) -> int:
        if self._pending is not None:
            self._value = self._pending.result()
            self._pending = None
        return self._value


def _step(before: "Future[int] | None", base: int, chunk: Any) -> int:
    return zlib.crc32(chunk, base if before is None else before.result())


def record_crc(head: bytes, data: Any) -> "Future[int]":
    """The CRC-32 of `head` then `data` (which must not change until the result is
    read), computed on a worker when `data` is large."""
    if len(data) < _INLINE:
        done: Future[int] = Future()
        done.set_result(zlib.crc32(data, zlib.crc32(head)))
        return done
    return _workers().submit(zlib.crc32, data, zlib.crc32(head))
