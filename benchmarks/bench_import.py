"""Cold `import typedeqx` against cold `import equinox`.

Each sample is a fresh Python process that times its own `import` statement (so
interpreter start-up is left out); the two libraries alternate sample by sample,
so load on the machine hits both alike. Both import JAX, which is most of the
time: the difference is each library's own modules. Target: typedeqx within 1.05x
of Equinox. A third row imports JAX alone, for scale.

Python caches bytecode as it does by default (`PYTHONDONTWRITEBYTECODE` is dropped
for the subprocesses, and the warm-up run writes the caches): an installed Equinox
has its `.pyc` files, and so does an installed typedeqx. Compiling every source
file on every import would add about 0.2 s to typedeqx and nothing to Equinox.
"""

import os
import statistics
import subprocess
import sys

from _timing import report

_SNIPPET = (
    "import time; t = time.perf_counter(); import {name}; "
    "print(time.perf_counter() - t)"
)
VARIANTS = {
    "import equinox": "equinox",
    "import typedeqx": "typedeqx",
    "import jax": "jax",
}
REPEAT = 15


def _cold_import(name: str) -> float:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-c", _SNIPPET.format(name=name)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(done.stdout.strip().splitlines()[-1])


def run() -> list[str]:
    samples: dict[str, list[float]] = {label: [] for label in VARIANTS}
    for name in VARIANTS.values():  # warm the file-system and bytecode caches
        _cold_import(name)
    for _ in range(REPEAT):
        for label, name in VARIANTS.items():
            samples[label].append(_cold_import(name))
    times = {label: statistics.median(s) for label, s in samples.items()}
    title = f"cold import, fresh process each, median of {REPEAT} interleaved"
    return [report(title, times, "import equinox", "typedeqx <= 1.05x equinox")]
