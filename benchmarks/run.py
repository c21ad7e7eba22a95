"""Run every benchmark and print side-by-side ratios.

Usage: `python benchmarks/run.py [name ...]` where each name picks
`benchmarks/bench_<name>.py`; with no names, all of them run. Each bench module
exposes `run() -> list[str]`, the report blocks it printed.
"""

import importlib
import os
import pathlib
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))


def main(names: list[str]) -> None:
    available = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
    chosen = names or available
    for name in chosen:
        if name not in available:
            raise SystemExit(f"no benchmark {name!r}; available: {available}")
        print(f"##### bench_{name}", flush=True)
        module = importlib.import_module(f"bench_{name}")
        for block in module.run():
            print(block, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
