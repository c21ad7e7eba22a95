"""Side-by-side timing: every variant is measured in the same process, interleaved,
and reported as a ratio to a baseline, so machine noise cancels out."""

import gc
import statistics
import time
from collections.abc import Callable


def interleaved(
    variants: dict[str, Callable[[], object]],
    *,
    number: int = 200,
    repeat: int = 15,
) -> dict[str, float]:
    """Median seconds per call of each variant, measured round-robin.

    **Arguments:**

    - `variants`: name -> zero-argument callable (it must block on its own result).
    - `number`: calls per timing sample.
    - `repeat`: samples per variant; variants alternate sample by sample.

    **Returns:**

    name -> median seconds per call.
    """
    for fn in variants.values():
        for _ in range(max(3, number // 10)):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, fn in variants.items():
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[name].append((time.perf_counter() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(s) for name, s in samples.items()}


def report(title: str, times: dict[str, float], baseline: str, target: str) -> str:
    """Format one comparison: each variant's time and its ratio to `baseline`."""
    lines = [f"== {title}  (target: {target})"]
    base = times[baseline]
    for name, t in times.items():
        lines.append(f"   {name:<44s} {t * 1e6:10.2f} us   {t / base:6.3f}x")
    return "\n".join(lines)
