"""`MLP(scan=True)` compiles in the same time at any depth; the unrolled MLP does
not. Each variant is a fresh `filter_jit` of a fresh MLP (no cache is shared:
every depth and mode has its own structure), timed from the first call to its
result, and the depths are interleaved so that machine noise spreads evenly."""

import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
from _timing import report

import typedeqx

DEPTHS = (4, 16, 64)
WIDTH = 32
REPEAT = 3


def _compile_seconds(depth: int, scan: bool) -> float:
    mlp = typedeqx.nn.MLP(WIDTH, WIDTH, WIDTH, depth, scan=scan, key=jr.PRNGKey(depth))
    # A new function object each time, so that nothing is reused from a cache.
    step: Any = typedeqx.filter_jit(lambda model, x: model(x))
    start = time.perf_counter()
    jax.block_until_ready(step(mlp, jnp.ones(WIDTH)))
    return time.perf_counter() - start


def run() -> list[str]:
    samples: dict[str, list[float]] = {}
    for _ in range(REPEAT):
        for scan in (True, False):
            for depth in DEPTHS:
                name = f"{'scan' if scan else 'unrolled'} depth {depth}"
                samples.setdefault(name, []).append(_compile_seconds(depth, scan))
    times = {name: statistics.median(s) for name, s in samples.items()}
    blocks = [
        report(
            f"trace + compile + first call, MLP width {WIDTH}, scan={scan}",
            {k: v for k, v in times.items() if k.startswith(prefix)},
            f"{prefix} depth {DEPTHS[0]}",
            "scan=True: flat from depth 4 to 64" if scan else "informational",
        )
        for scan, prefix in ((True, "scan"), (False, "unrolled"))
    ]
    return blocks
