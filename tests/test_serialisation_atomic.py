"""Saving to a path: through symlinks, keeping mode and owner, never touching the
umask, and removing only the temporary files of dead writers."""

import os
import re
import shutil
import socket
import stat
import subprocess
import sys

import jax.numpy as jnp
import pytest

import typedeqx as eqx
from helpers import tree_allclose

_LIKE = {"w": jnp.zeros(3)}


def _host():
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real.eqx"
    link = tmp_path / "link.eqx"
    eqx.tree_serialise_leaves(target, {"w": jnp.zeros(3)})
    link.symlink_to(target)
    eqx.tree_serialise_leaves(link, {"w": jnp.ones(3)})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert tree_allclose(eqx.tree_deserialise_leaves(target, _LIKE), {"w": jnp.ones(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.eqx", "real.eqx"]


def test_mode_is_kept(tmp_path):
    path = tmp_path / "m.eqx"
    eqx.tree_serialise_leaves(path, {"w": jnp.zeros(3)})
    os.chmod(path, 0o640)
    eqx.tree_serialise_leaves(path, {"w": jnp.ones(3)})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_new_file_mode_follows_the_umask_without_reading_it(tmp_path, monkeypatch):
    umask = os.umask(0o027)
    try:

        def forbidden(mask):
            raise AssertionError("typedeqx must never call os.umask")

        monkeypatch.setattr(os, "umask", forbidden)
        eqx.tree_serialise_leaves(tmp_path / "new.eqx", {"w": jnp.ones(3)})
    finally:
        monkeypatch.undo()
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.eqx").st_mode) == 0o640


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_is_kept(tmp_path):
    path = tmp_path / "m.eqx"
    eqx.tree_serialise_leaves(path, {"w": jnp.zeros(3)})
    os.chown(path, 12345, 23456)
    eqx.tree_serialise_leaves(path, {"w": jnp.ones(3)})
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (12345, 23456)


def test_only_dead_writers_temporary_files_are_removed(tmp_path):
    dead, host = _dead_pid(), _host()
    stale = f".m.eqx.{host}.{dead}.deadbeef.tmp"
    kept = [
        f".m.eqx.{host}.{os.getpid()}.0badcafe.tmp",  # a live writer (this process)
        f".m.eqx.otherhost.{dead}.12345678.tmp",  # another host's writer
        f".other.eqx.{host}.{dead}.12345678.tmp",  # another target
        "notes.tmp",
    ]
    for name in [stale, *kept]:
        (tmp_path / name).write_bytes(b"partial")
    eqx.tree_serialise_leaves(tmp_path / "m.eqx", {"w": jnp.ones(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.eqx", *kept])


def _read_only_directory(directory):
    """Make `directory` refuse new files, even to root (with the immutable flag)."""
    if os.geteuid() != 0:
        os.chmod(directory, 0o555)
        return lambda: os.chmod(directory, 0o700)
    if shutil.which("chattr") is None:
        pytest.skip("root may write any directory, and chattr is missing")
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i failed: {made.stderr!r}")
    return lambda: subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_an_atomic_save_needs_a_writable_directory(tmp_path):
    # A file that may be written, in a directory that may not: the save is refused
    # and the file is unchanged (Equinox would overwrite it in place).
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "m.eqx"
    eqx.tree_serialise_leaves(path, {"w": jnp.zeros(3)})
    os.chmod(path, 0o666)
    restore = _read_only_directory(directory)
    try:
        with pytest.raises(PermissionError) as info:
            eqx.tree_serialise_leaves(path, {"w": jnp.ones(3)})
    finally:
        restore()
    assert info.value.strerror == (
        f"Cannot save atomically into '{directory}': an atomic save writes a "
        "temporary file beside the target and renames it, so the directory must be "
        "writable (not only the file)"
    )
    assert tree_allclose(eqx.tree_deserialise_leaves(path, _LIKE), {"w": jnp.zeros(3)})


def _fsyncs(monkeypatch):
    """Record the kind of every descriptor passed to `os.fsync`."""
    kinds = []
    real = os.fsync

    def spy(fd):
        kinds.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return kinds


def test_a_default_save_does_not_wait_for_the_disk(tmp_path, monkeypatch):
    kinds = _fsyncs(monkeypatch)
    eqx.tree_serialise_leaves(tmp_path / "a.eqx", {"w": jnp.ones(3)})
    eqx.tree_serialise_leaves(tmp_path / "a.eqx", {"w": jnp.zeros(3)})
    assert kinds == []


@pytest.mark.parametrize("exists", [False, True])
def test_a_durable_save_fsyncs_the_file_then_its_directory(
    tmp_path, monkeypatch, exists
):
    path = tmp_path / "d.eqx"
    if exists:
        eqx.tree_serialise_leaves(path, {"w": jnp.zeros(3)})
    kinds = _fsyncs(monkeypatch)
    eqx.tree_serialise_leaves(path, {"w": jnp.ones(3)}, durable=True)
    assert kinds == ["file", "dir"]
    assert tree_allclose(eqx.tree_deserialise_leaves(path, _LIKE), {"w": jnp.ones(3)})


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 is Linux's")
def test_swap_exchanges_two_files(tmp_path):
    from typedeqx._serialisation._exchange import swap

    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    assert swap(a, b)
    assert (a.read_bytes(), b.read_bytes()) == (b"second", b"first")
    assert not swap(a, tmp_path / "missing")  # refused: nothing changes
    assert a.read_bytes() == b"second"


@pytest.mark.parametrize("can_swap", [False, True])
def test_a_replaced_file_leaves_nothing_behind(tmp_path, monkeypatch, can_swap):
    from typedeqx._serialisation import _atomic

    if not can_swap:
        monkeypatch.setattr(_atomic, "swap", lambda a, b: False)
    path = tmp_path / "r.eqx"
    os.symlink(path, tmp_path / "link.eqx")
    eqx.tree_serialise_leaves(path, {"w": jnp.zeros(3)})
    os.chmod(path, 0o604)
    eqx.tree_serialise_leaves(tmp_path / "link.eqx", {"w": jnp.ones(3)})
    assert tree_allclose(eqx.tree_deserialise_leaves(path, _LIKE), {"w": jnp.ones(3)})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.eqx", "r.eqx"]


def test_a_large_replaced_version_is_removed_after_the_save(tmp_path, monkeypatch):
    from typedeqx._serialisation import _atomic

    monkeypatch.setattr(_atomic, "_LARGE", 0)  # every old version counts as large
    path = tmp_path / "big.eqx"
    for value in range(3):
        eqx.tree_serialise_leaves(path, {"w": jnp.full(3, float(value))})
        assert tree_allclose(
            eqx.tree_deserialise_leaves(path, _LIKE), {"w": jnp.full(3, float(value))}
        )
    _atomic.settle()
    assert [p.name for p in tmp_path.iterdir()] == ["big.eqx"]
