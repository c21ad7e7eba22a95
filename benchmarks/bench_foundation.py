"""Foundation speed targets (issue 2): PyTree round trips, Module construction and
import time, typedeqx against Equinox in one process, reported as ratios.

1. `tree_flatten` + `tree_unflatten` of `nn.MLP(depth=128)`: ratio <= 1.0.
2. constructing a small Linear-like Module with a custom `__init__`: ratio <= 1.2.
3. `import typedeqx` vs `import equinox` in fresh interpreters: ratio <= 1.0.
"""

import statistics
import subprocess
import sys
import time

import equinox
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from _timing import interleaved, report

import typedeqx

DEPTH = 128
WIDTH = 4
IMPORT_RUNS = 15


def _round_trip(model: object):
    def run() -> object:
        leaves, treedef = jtu.tree_flatten(model)
        return jtu.tree_unflatten(treedef, leaves)

    return run


def bench_flatten_unflatten() -> str:
    key = jax.random.PRNGKey(0)
    ours = typedeqx.nn.MLP(WIDTH, WIDTH, WIDTH, DEPTH, key=key)
    theirs = equinox.nn.MLP(WIDTH, WIDTH, WIDTH, DEPTH, key=key)
    assert len(jtu.tree_leaves(ours)) == len(jtu.tree_leaves(theirs))
    times = interleaved(
        {
            "equinox MLP(depth=128)": _round_trip(theirs),
            "typedeqx MLP(depth=128)": _round_trip(ours),
        },
        number=50,
    )
    return report(
        "tree_flatten + tree_unflatten, MLP depth 128 width 4",
        times,
        "equinox MLP(depth=128)",
        "typedeqx/equinox <= 1.0",
    )


class OurLinear(typedeqx.Module):
    weight: jax.Array
    bias: jax.Array
    in_features: int = typedeqx.field(static=True)

    def __init__(self, weight: jax.Array, bias: jax.Array):
        self.weight = weight
        self.bias = bias
        self.in_features = weight.shape[1]


class TheirLinear(equinox.Module):
    weight: jax.Array
    bias: jax.Array
    in_features: int = equinox.field(static=True)

    def __init__(self, weight: jax.Array, bias: jax.Array):
        self.weight = weight
        self.bias = bias
        self.in_features = weight.shape[1]


def bench_construction() -> str:
    weight, bias = jnp.ones((3, 4)), jnp.ones(3)
    times = interleaved(
        {
            "equinox Linear-like __init__": lambda: TheirLinear(weight, bias),
            "typedeqx Linear-like __init__": lambda: OurLinear(weight, bias),
        },
        number=2000,
    )
    return report(
        "construct a Module with a custom __init__ (arrays given)",
        times,
        "equinox Linear-like __init__",
        "typedeqx/equinox <= 1.2",
    )


_IMPORT_CODE = (
    "import time; start = time.perf_counter(); import {}; "
    "print(time.perf_counter() - start)"
)


def _import_times(module: str) -> tuple[float, float]:
    """(wall seconds of `python -c 'import module'`, seconds inside the import)."""
    command = [sys.executable, "-c", _IMPORT_CODE.format(module)]
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return wall, float(out.stdout.strip())


def bench_import() -> str:
    wall: dict[str, list[float]] = {"import equinox": [], "import typedeqx": []}
    inner: dict[str, list[float]] = {"import equinox": [], "import typedeqx": []}
    _import_times("jax")  # warm the file cache for both
    for _ in range(IMPORT_RUNS):
        for name in wall:
            w, i = _import_times(name.split()[1])
            wall[name].append(w)
            inner[name].append(i)
    title = f"fresh interpreter, median of {IMPORT_RUNS} alternated runs"
    # Import time drifts with the machine over seconds; the ratio within each
    # back-to-back pair of runs cancels the drift.
    pairs = [t / e for t, e in zip(wall["import typedeqx"], wall["import equinox"])]
    return "\n".join(
        [
            report(
                f"python -c 'import X', wall clock, {title}",
                {k: statistics.median(v) for k, v in wall.items()},
                "import equinox",
                "typedeqx/equinox <= 1.0",
            ),
            report(
                "same runs, time inside the import statement (both import jax)",
                {k: statistics.median(v) for k, v in inner.items()},
                "import equinox",
                "(diagnostic)",
            ),
            f"   typedeqx/equinox within each back-to-back pair of runs: median "
            f"{statistics.median(pairs):.3f}x, min {min(pairs):.3f}x, "
            f"max {max(pairs):.3f}x",
        ]
    )


def run() -> list[str]:
    return [bench_flatten_unflatten(), bench_construction(), bench_import()]


if __name__ == "__main__":
    for block in run():
        print(block)
