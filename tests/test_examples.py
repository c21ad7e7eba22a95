"""Smoke tests: every example in `examples/` runs as written, with checks on, in a
few steps. Each example checks its own result with assertions."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import jax
import jax.numpy as jnp
import pytest

import typedeqx

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name",
    ["surgery", "custom_init", "symmetric_weights", "ensemble", "scan_over_layers"],
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


def test_digits_loss_falls_and_the_checkpoint_reloads_equal(tmp_path, capsys):
    result = load("digits").main(
        ["--steps", "40", "--eval-every", "20", "--out-dir", str(tmp_path)]
    )
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0]
    assert result["history"]["accuracy"][-1] > 0.5  # far above chance (0.1)
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert bool(typedeqx.tree_equal(result["restored"], result["model"]))
    out = capsys.readouterr().out
    assert "argument image is f32[16,1,8,8]" in out and "jax.vmap" in out


# The GPT tests train `--size tiny` (the same model and code, a few thousand
# weights) on batches of 8: what they check does not depend on the model's size.
TINY_GPT = ["--size", "tiny", "--batch-size", "8"]


def test_gpt_trains_saves_and_resumes(tmp_path, capsys):
    gpt = load("gpt")
    common = [*TINY_GPT, "--out-dir", str(tmp_path), "--sample-length", "8"]
    with jax.numpy_dtype_promotion("standard"):
        first = gpt.main(["--steps", "4", *common])
        resumed = gpt.main(["--steps", "2", *common, "--resume"])
    out = capsys.readouterr().out
    assert "resumed from" in out and "at step 4" in out
    assert len(first["losses"]) == 4 and len(resumed["losses"]) == 2
    assert resumed["sample"].startswith("And God said")
    assert len(resumed["sample"]) == len("And God said") + 8


# Both modes in one fresh interpreter (the device count is fixed when JAX starts):
# one start-up, and the model's initialisation is compiled once.
SHARDED_GPT = """
import sys
import jax
sys.path.insert(0, sys.argv[1])
import gpt
with jax.numpy_dtype_promotion("standard"):
    for mode, out in [("data", sys.argv[2]), ("fsdp", sys.argv[3])]:
        extra = ["--orbax"] if mode == "fsdp" else []
        gpt.main([*sys.argv[4:], "--out-dir", out, "--shard", mode, *extra])
"""


def test_gpt_shards_over_eight_simulated_devices(tmp_path):
    # Most of this test's time is XLA compiling; a lower optimisation level cuts
    # it by about a quarter and changes nothing this test checks.
    flags = [
        "--xla_force_host_platform_device_count=8",
        "--xla_backend_optimization_level=0",
        "--xla_llvm_disable_expensive_passes=true",
    ]
    env = {**os.environ, "XLA_FLAGS": " ".join(flags)}
    args = [*TINY_GPT, "--steps", "3", "--sample-length", "4", "--devices", "8"]
    outs = [str(tmp_path / "data"), str(tmp_path / "fsdp")]
    done = subprocess.run(
        [sys.executable, "-c", SHARDED_GPT, str(EXAMPLES), *outs, *args],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    data = out.index("mesh of 8 devices in 1 process(es), --shard data")
    fsdp = out.index("mesh of 8 devices in 1 process(es), --shard fsdp")
    assert out.count("step     3") == 2 and data < fsdp
    assert "restored equal" in out[fsdp:] and "'data'" in out[fsdp:]


def test_readme_shows_the_digits_cnn_summary():
    digits = load("digits")
    model = typedeqx.nn.inference_mode(digits.CNN(key=jax.random.key(0)))
    table = str(typedeqx.summary(model, jax.ShapeDtypeStruct((1, 8, 8), jnp.float32)))
    readme = (EXAMPLES.parent / "README.md").read_text()
    assert table in readme
