"""CRC-32 of a record, computed on a worker thread so that it overlaps the reading or
writing of the bytes (zlib releases the GIL while it works)."""

import os
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_INLINE = 1 << 20  # smaller chunks are cheaper to checksum than to hand over
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _worker() -> ThreadPoolExecutor:
    global _pool
    # A forked child inherits the executor but not its thread: make a new one.
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(1, "typedeqx-checksum"))
    return _pool[1]


class Running:
    """The CRC-32 of chunks added in order; large chunks are checksummed on the
    worker thread (one worker, so in order) while the caller goes on."""

    def __init__(self, start: Any = b""):
        self._value = zlib.crc32(start)
        self._pending: Future[int] | None = None

    def add(self, chunk: Any) -> None:
        """Add `chunk`, which must not change until `value()` returns."""
        if len(chunk) < _INLINE:
            self._value = zlib.crc32(chunk, self.value())
            return
        before, base = self._pending, self._value
        self._pending = _worker().submit(_step, before, base, chunk)

    def value(self) -> int:
        if self._pending is not None:
            self._value = self._pending.result()
            self._pending = None
        return self._value


def _step(before: "Future[int] | None", base: int, chunk: Any) -> int:
    return zlib.crc32(chunk, base if before is None else before.result())
