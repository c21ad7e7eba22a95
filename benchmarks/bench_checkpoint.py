"""Checkpoints: a 1 GiB save and load with typedeqx against Equinox, interleaved in
one process, and each one's peak extra memory and bytes read, measured in a fresh
subprocess (RSS high-water mark from /proc/self/status, reset through
/proc/self/clear_refs; bytes read from `rchar` in /proc/self/io). Each timed call
starts after `os.sync()`.

Both libraries' default saves write without fsync. typedeqx removes the replaced
version of a large file on a worker thread after its save returns; the benchmark
waits for that outside the timed region, so that it never overlaps the next
timing. Two more rows time the durable saves: typedeqx's `durable=True` (fsync of
the file and of its directory) against Equinox's save followed by an fsync of the
file.

Targets: save within 1.3x Equinox's time, load within 1.2x, peak extra memory at
most one leaf's read buffer (64 MiB here; for a load, beyond the loaded arrays
themselves), bytes read on load at most 1.05x the file size."""

import io
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

LEAVES = 16
LEAF_ELEMENTS = 16 * 2**20  # float32: 64 MiB per leaf, 1 GiB in all
REPEAT = 3
HERE = pathlib.Path(__file__).parent


def _tree(fill: float = 1.0) -> Any:
    import jax.numpy as jnp

    return {
        f"layer{i:02d}": {
            "weight": jnp.full((LEAF_ELEMENTS,), fill + i, jnp.float32),
            "bias": jnp.zeros(16),
        }
        for i in range(LEAVES)
    }


def _like() -> Any:
    import jax

    return jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), jax.eval_shape(_tree)
    )


def _library(name: str) -> Any:
    if name == "typedeqx":
        import typedeqx

        return typedeqx
    import equinox

    return equinox


def _status(field: str) -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _rchar() -> int:
    for line in pathlib.Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise KeyError("rchar")


def _measure_child(lib_name: str, op: str, path: str) -> dict[str, int]:
    """In this (fresh) process: one save or load; peak RSS above the start."""
    import jax
    import numpy as np

    lib = _library(lib_name)
    payload = _tree() if op == "save" else _like()
    jax.block_until_ready(payload)
    # Warm up with a small tree, through a path and a stream: JAX's CPU runtime,
    # lazy imports and threads are one-off costs of the process, not memory that a
    # save or load holds.
    small, stream = {"a": {"w": np.arange(2**20, dtype=np.float32)}}, io.BytesIO()
    small_like = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), small
    )
    lib.tree_serialise_leaves(stream, small)
    stream.seek(0)
    jax.block_until_ready(lib.tree_deserialise_leaves(stream, small_like))
    lib.tree_serialise_leaves(path + ".warm", small)
    jax.block_until_ready(lib.tree_deserialise_leaves(path + ".warm", small_like))
    os.unlink(path + ".warm")
    pathlib.Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM
    before, reads = _status("VmRSS"), _rchar()
    if op == "save":
        lib.tree_serialise_leaves(path, payload)
        output = 0
    else:
        out = jax.block_until_ready(lib.tree_deserialise_leaves(path, payload))
        output = sum(x.nbytes for x in jax.tree_util.tree_leaves(out))
    return {
        "extra": _status("VmHWM") - before - output,
        "read": _rchar() - reads,
        "size": os.path.getsize(path),
    }


def _child_figures(lib: str, op: str, path: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", lib, op, path],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _save_and_fsync(lib: Any, path: str, tree: Any) -> None:
    """Equinox's save made durable: the cost of the disk."""
    lib.tree_serialise_leaves(path, tree)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _interleaved(libs: dict[str, Any], paths: dict[str, str]) -> dict[str, list[float]]:
    """Seconds of each save and load, the libraries alternating."""
    import jax

    from typedeqx._serialisation._atomic import settle

    tree, like = _tree(), _like()
    jax.block_until_ready(tree)
    times: dict[str, list[float]] = {}

    def timed(key: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        os.sync()  # no variant pays for the dirty pages another one left
        start = time.perf_counter()
        jax.block_until_ready(fn(*args, **kwargs))
        times.setdefault(key, []).append(time.perf_counter() - start)
        # typedeqx removes a large replaced file on a worker thread once its save
        # has returned; that work must not run into the next library's timing.
        settle()

    for name, lib in libs.items():  # warm up: imports, first allocation
        lib.tree_serialise_leaves(paths[name], tree)
        jax.block_until_ready(lib.tree_deserialise_leaves(paths[name], like))
    for _ in range(REPEAT):
        for name, lib in libs.items():
            timed(f"save {name}", lib.tree_serialise_leaves, paths[name], tree)
            if name == "equinox":
                timed("save equinox+fsync", _save_and_fsync, lib, paths[name], tree)
            else:
                save = lib.tree_serialise_leaves
                timed("save typedeqx durable", save, paths[name], tree, durable=True)
            timed(f"load {name}", lib.tree_deserialise_leaves, paths[name], like)
    return times


def run() -> list[str]:
    libs = {name: _library(name) for name in ("equinox", "typedeqx")}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as d:
        paths = {name: os.path.join(d, f"{name}.eqx") for name in libs}
        times = _interleaved(libs, paths)
        figures = {
            (name, op): _child_figures(name, op, paths[name])
            for op in ("save", "load")
            for name in libs
        }
    med = {k: statistics.median(v) for k, v in times.items()}
    gib = LEAVES * LEAF_ELEMENTS * 4 / 2**30
    lines = [f"== checkpoint of {gib:.2f} GiB in {LEAVES} leaves of 64 MiB"]
    for op, target in (("save", 1.3), ("load", 1.2)):
        ratio = med[f"{op} typedeqx"] / med[f"{op} equinox"]
        samples = ", ".join(f"{t:.2f}" for t in times[f"{op} typedeqx"])
        ref = ", ".join(f"{t:.2f}" for t in times[f"{op} equinox"])
        lines.append(
            f"   {op}: typedeqx {med[f'{op} typedeqx']:.2f} s [{samples}], equinox "
            f"{med[f'{op} equinox']:.2f} s [{ref}]: {ratio:.3f}x (target <= {target}x)"
        )
    ours = ", ".join(f"{t:.2f}" for t in times["save typedeqx durable"])
    ref = ", ".join(f"{t:.2f}" for t in times["save equinox+fsync"])
    ratio = med["save typedeqx durable"] / med["save equinox+fsync"]
    lines.append(
        f"   durable save: typedeqx durable=True {med['save typedeqx durable']:.2f} s "
        f"[{ours}], equinox then fsync {med['save equinox+fsync']:.2f} s [{ref}]: "
        f"{ratio:.3f}x"
    )
    leaf = LEAF_ELEMENTS * 4
    for (name, op), f in figures.items():
        line = f"   {op} {name}: peak extra memory {f['extra'] / 2**20:.1f} MiB"
        line += f" ({f['extra'] / leaf:.2f} leaf buffers; target <= 1)"
        if op == "load":
            line += f", bytes read {f['read'] / f['size']:.4f}x the file size"
            line += " (target <= 1.05x)"
        lines.append(line)
    return ["\n".join(lines)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_measure_child(*sys.argv[2:5])))
    else:
        print("\n".join(run()))
