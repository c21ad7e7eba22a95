"""Replace a file atomically: a reader, or a process killed mid-save, sees either the
old file whole or the new file whole, never a mix.

The new bytes go to a temporary file beside the target, named after this host and
process, which is flushed and renamed over the target (swapped with it where the
system can, see `_exchange.py`). That is enough for a process that is killed (the
kernel keeps what was written); a durable save also fsyncs the file before the
rename and the directory after it, so that a crash of the machine leaves the old
file or the new one whole, at the cost of waiting for the disk. A symlink is
followed, so its target is replaced and the link kept. The old file's permissions
are kept, and its owner where the process may set it; a new file gets the
permissions `open(path, "w")` would give it (the kernel applies the umask, which is
never read or changed). Temporary files that a killed save on this host left behind
are removed by the next save to the same target. A replaced version of 64 MiB or
more is removed on a worker thread after the save returns.
"""

import contextlib
import os
import pathlib
import re
import secrets
import socket
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from ._exchange import swap


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _temporary_name(target: pathlib.Path) -> str:
    return f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(target: pathlib.Path) -> list[str]:
    """Remove the temporary files of saves to `target` by processes of this host
    that have died; return their names. Files of live processes, of other hosts
    and of other targets are left alone."""
    pattern = re.compile(
        rf"\.{re.escape(target.name)}\.{re.escape(_host())}\.(\d+)\.[0-9a-f]{{8}}\.tmp"
    )
    removed = []
    with contextlib.suppress(OSError):
        for name in os.listdir(target.parent):
            match = pattern.fullmatch(name)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target.parent / name)
                    removed.append(name)
    return removed


def _keep_owner_and_mode(fd: int, old: os.stat_result) -> None:
    # The owner first: changing it may clear set-id bits, which the mode restores.
    for uid, gid in ((old.st_uid, old.st_gid), (-1, old.st_gid)):
        try:
            os.fchown(fd, uid, gid)
            break
        except PermissionError:
            continue
    os.fchmod(fd, old.st_mode & 0o7777)


def _forget_cached(path: pathlib.Path) -> None:
    """Drop the old version's pages from the page cache before the new version is
    written: it is about to be replaced, and where the cache is small (1 GB on the
    machine this was measured on) writing beside it first had to evict it, which
    made a 1 GiB save 3 to 4 times slower."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_directory(directory: pathlib.Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_LARGE = 1 << 26
_remover: tuple[int, ThreadPoolExecutor] | None = None
_removals: list["Future[None]"] = []


def _remove_later(old: pathlib.Path) -> None:
    """Remove a large replaced version on a worker thread: freeing its blocks takes
    the file system a while (0.2 s for 1 GiB on ext4), and nothing reads that name.
    The worker is joined when the interpreter exits; if the process is killed
    first, the next save to the target removes the file."""
    global _remover
    if _remover is None or _remover[0] != os.getpid():  # none survives a fork
        _remover = (os.getpid(), ThreadPoolExecutor(1, "typedeqx-remove"))
        _removals.clear()
    _removals[:] = [f for f in _removals if not f.done()]
    _removals.append(_remover[1].submit(_unlink_quietly, old))


def settle() -> None:
    """Wait until the replaced versions of earlier saves are removed."""
    for removal in list(_removals):
        removal.result()


def _unlink_quietly(path: pathlib.Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _create(tmp: pathlib.Path, directory: pathlib.Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(tmp, flags, 0o666)
    except PermissionError as e:
        raise PermissionError(
            e.errno,
            f"Cannot save atomically into '{directory}': an atomic save writes a "
            "temporary file beside the target and renames it, so the directory must "
            "be writable (not only the file)",
            str(tmp),
        ) from e


@contextlib.contextmanager
def atomic_write(path: pathlib.Path, durable: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` (or the file a symlink at `path`
    points to) once the block finishes; with `durable`, the new file and the rename
    are on disk before this returns. If the block raises, the target is untouched
    and the temporary file is removed."""
    target = pathlib.Path(os.path.realpath(path))
    remove_stale(target)
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    tmp = target.parent / _temporary_name(target)
    f = os.fdopen(_create(tmp, target.parent), "wb")
    try:
        with f:
            if old is not None:
                _keep_owner_and_mode(f.fileno(), old)
                _forget_cached(target)
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        if old is None or not swap(tmp, target):
            os.replace(tmp, target)
        elif old.st_size < _LARGE:  # the temporary name now holds the old version
            os.unlink(tmp)
        else:
            _remove_later(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_directory(target.parent)
