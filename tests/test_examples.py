"""Smoke tests: every example in `examples/` runs as written, with checks on, in a
few steps. Each example checks its own result with assertions."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import jax
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name", ["surgery", "custom_init", "symmetric_weights", "ensemble", "scan_over_layers"]
)
def test_seed_pattern_example_runs(name, capsys):
    load(name).main()
    assert capsys.readouterr().out


def test_surgery_reports_the_wrong_head(capsys):
    load("surgery").main()
    assert "caught: MLP.layers[2] (Linear.__call__)" in capsys.readouterr().out


def test_ensemble_called_without_vmap_is_explained(capsys):
    load("ensemble").main()
    assert "looks batched" in capsys.readouterr().out


def test_flat_training_loop_matches_the_plain_loop(capsys):
    with jax.numpy_dtype_promotion("standard"):  # optax's Adam mixes float and int32
        load("flat_training_loop").main(["--steps", "20"])
    assert "same as the plain loop" in capsys.readouterr().out
