"""Python's garbage collector in a `filter_jit` training loop (GC enabled, as in a
user's loop; `_timing.interleaved`, used by the other loop benchmarks, times with
GC disabled).

The loop of `bench_loop.py` (MLP of depth 32, Adam, `model, opt_state, loss =
step(...)`) runs 2,000 steps for the floor and for typedeqx. Reported per step: the
collections of each generation (counted with `gc.callbacks`) and the time spent in
them. A diagnostic, no target: the floor frees as many objects as it makes in each
step and never reaches the collector's threshold; typedeqx makes its output's
Modules before the caller drops the previous ones.
"""

import gc
import time
from collections.abc import Callable
from typing import Any

import bench_loop
import jax

DEPTH = 32
STEPS = 2000


def _collections(run: Callable[[], Any]) -> tuple[float, dict[int, tuple[int, float]]]:
    """Seconds per step, and generation -> (collections, seconds per step)."""
    seen: dict[int, list[float]] = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            entry = seen[info["generation"]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started[0]

    gc.callbacks.append(callback)
    try:
        start = time.perf_counter()
        for _ in range(STEPS // bench_loop.STEPS):
            run()
        total = time.perf_counter() - start
    finally:
        gc.callbacks.remove(callback)
    return total / STEPS, {g: (int(c), t / STEPS) for g, (c, t) in seen.items()}


def _line(name: str, figures: tuple[float, dict[int, tuple[int, float]]]) -> str:
    per_step, by_generation = figures
    parts = ", ".join(
        f"gen{g}: {c} ({t * 1e6:.2f} us/step)" for g, (c, t) in by_generation.items()
    )
    return f"   {name:32s} {per_step * 1e6:8.1f} us/step; {parts}"


def run() -> list[str]:
    flag = "jax_cpu_enable_async_dispatch"
    before = bool(jax.config.values[flag])
    jax.config.update(flag, False)
    try:
        variants = bench_loop._variants(DEPTH, 32)
        for fn in variants.values():
            fn()
        gc.collect()
        lines = [f"== GC in {STEPS} training steps, MLP depth {DEPTH} (diagnostic)"]
        for name in (bench_loop.FLOOR, bench_loop.OURS):
            lines.append(_line(name[:32], _collections(variants[name])))
        return ["\n".join(lines)]
    finally:
        jax.config.update(flag, before)
