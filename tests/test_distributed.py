"""typedeqx across processes: `examples/gpt.py` run as two JAX processes of two CPU
devices each (`jax.distributed`, gloo collectives, loopback only), against the same
run in one process of four devices.

Every process trains with the shape checks on, saves and restores a sharded orbax
checkpoint, then meets a deliberate shape mistake, an `error_if`, `summary`,
printing and `tree_serialise_leaves` on arrays that span both processes. Each writes
what it saw to a JSON file, which the test compares across processes and with the
one-process run.

This file is also the worker: `python tests/test_distributed.py DIR [cluster]`.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 240  # seconds, for the slowest process; a normal run takes well under 60
TRAIN = ["--shard", "fsdp", "--size", "tiny", "--steps", "3", "--batch-size", "8"]
TRAIN += ["--sample-length", "0", "--orbax", "--devices", "2"]


def _load_gpt() -> Any:
    spec = importlib.util.spec_from_file_location("example_gpt", EXAMPLES / "gpt.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _caught(f: Any) -> dict[str, str] | None:
    """The type and message of what `f()` raises, or `None`."""
    try:
        f()
    except Exception as e:  # what is raised is compared, whatever it is
        return {"type": type(e).__name__, "message": str(e)}
    return None


def _probe(gpt: Any, result: dict[str, Any], out: Path) -> dict[str, Any]:
    """What typedeqx does with the trained model, whose arrays span the processes."""
    import jax
    import jax.numpy as jnp

    import typedeqx as eqx

    model, shard = result["model"], result["shard"]
    x = shard.global_batch(np.zeros((8 // jax.process_count(), 16), np.int32), 8)
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))
    restored = jax.tree_util.tree_leaves(eqx.filter(result["restored"], eqx.is_array))
    same_layout = [
        a.sharding.is_equivalent_to(b.sharding, a.ndim)
        for a, b in zip(leaves, restored, strict=True)
    ]
    positive = eqx.filter_jit(lambda x: eqx.error_if(x, x < 0, "negative token"))
    return {
        "process": [jax.process_index(), jax.process_count()],
        "addressable": all(a.is_fully_addressable for a in leaves),
        "losses": result["losses"],
        "restored_equal": bool(
            eqx.filter_jit(eqx.tree_equal)(result["restored"], model)
        ),
        "restored_layout": all(same_layout),
        # The deliberate mistake: a batch of token sequences given to a model that
        # takes one sequence (no vmap), eagerly and under filter_jit.
        "mistake": _caught(lambda: model(x)),
        "mistake_jit": _caught(lambda: eqx.filter_jit(gpt.loss_fn)(model, x[0], x)),
        # Under filter_jit the error may surface only when the result is waited
        # for: the computation spans two processes, so dispatch is asynchronous.
        "error_if_false": _caught(lambda: jax.block_until_ready(positive(x))),
        "error_if_true": _caught(lambda: jax.block_until_ready(positive(x - 1))),
        "error_if_eager": _caught(lambda: eqx.error_if(x, x - 1 < 0, "negative token")),
        "summary": str(eqx.summary(model, x[0])),
        "repr": repr(model),
        "pformat": eqx.tree_pformat(model, short_arrays=False),
        "serialise": _caught(lambda: eqx.tree_serialise_leaves(out, model)),
        "shape_of_global_sum": list(jnp.sum(x, axis=0).shape),
    }


def _worker(directory: Path, cluster: list[str]) -> None:
    import jax

    gpt = _load_gpt()
    argv = [*TRAIN, "--out-dir", str(directory / "run"), *cluster]
    if not cluster:  # the reference: one process with all four devices
        argv[argv.index("--devices") + 1] = "4"
    start = time.perf_counter()
    with jax.numpy_dtype_promotion("standard"):  # optax mixes floats and int32
        result = gpt.main(argv)
        trained = time.perf_counter()
        out = directory / f"out{jax.process_index()}.json"
        found = _probe(gpt, result, out.with_suffix(".eqx"))
    done = time.perf_counter()
    # JAX keeps the error of a failed host callback (the error_if above) in a
    # per-device token that it waits for again at exit, where the error would
    # stop it before `jax.distributed.shutdown`, and the coordinator would abort.
    # The error was caught and recorded on purpose: forget it.
    from jax._src import dispatch

    dispatch.runtime_tokens.clear()
    print(
        f"worker: {trained - start:.1f} s in gpt.main, {done - trained:.1f} s probing"
    )
    out.write_text(json.dumps(found))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """[the one-process run, process 0, process 1], each as its worker saw it."""
    gpt = _load_gpt()
    single, cluster = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("2x2")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    reference = subprocess.Popen(
        [sys.executable, __file__, str(single)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    start, log = time.monotonic(), ""
    try:
        # Meanwhile, the example's own launcher starts the two processes (on a
        # free loopback port), and kills both if one fails or runs out of time.
        # They share one checkpoint directory, as hosts share a file system.
        code = gpt.launch([str(cluster)], 2, 2, TIMEOUT, script=Path(__file__))
        left = max(1.0, TIMEOUT - (time.monotonic() - start))
        log = reference.communicate(timeout=left)[0]
    finally:
        if reference.poll() is None:
            reference.kill()
            log = reference.communicate(timeout=30)[0] or ""
    assert code == 0, "a cluster process failed (its output is above)"
    assert reference.returncode == 0, log[-4000:]
    outs = [single / "out0.json", cluster / "out0.json", cluster / "out1.json"]
    return [json.loads(out.read_text()) for out in outs]


def test_trains_on_global_arrays_with_the_loss_of_one_process(runs):
    single, *cluster = runs
    assert single["process"] == [0, 1] and single["addressable"]
    assert [r["process"] for r in cluster] == [[0, 2], [1, 2]]
    assert not any(r["addressable"] for r in cluster)  # fsdp: split over processes
    for r in cluster:
        np.testing.assert_allclose(r["losses"], single["losses"], rtol=1e-5)


def test_sharded_checkpoint_restores_equal_on_every_process(runs):
    for r in runs:
        assert r["restored_equal"] and r["restored_layout"]


def test_every_process_reports_the_same_shape_mistake(runs):
    single, *cluster = runs
    for key in ["mistake", "mistake_jit"]:
        assert single[key] is not None and single[key]["type"] == "ShapeError"
        for r in cluster:
            assert r[key] == single[key]
    assert single["mistake"]["message"] == (
        'GPT.__call__: argument tokens is i32[8,16], expected Int[Array, "seq"] '
        "(got rank 2, expected rank 1)\n  hint: tokens looks like a batch of 8 "
        "inputs of shape i32[16]. Map over it with jax.vmap: "
        "jax.vmap(model)(tokens)."
    )


def test_error_if_raises_on_every_process(runs):
    single, *cluster = runs
    for r in runs:
        assert r["error_if_false"] is None
        assert r["error_if_eager"]["type"] == "EquinoxRuntimeError"
        assert r["error_if_eager"]["message"].startswith(
            f'negative token\n\nerror_if called at: File "{__file__}", line '
        )
        # A computation over several devices is dispatched asynchronously: the
        # failure surfaces while filter_jit dispatches (and it re-raises the
        # EquinoxRuntimeError) or, if the computation is slower, when the result
        # is waited for, as JAX's error carrying the EquinoxRuntimeError.
        error = r["error_if_true"]
        assert error["type"] in ("EquinoxRuntimeError", "JaxRuntimeError")
        assert "negative token" in error["message"]
    for r in cluster:
        assert r["error_if_eager"] == single["error_if_eager"]


def test_summary_and_printing_show_shapes_only(runs):
    single, *cluster = runs
    for r in cluster:
        assert r["summary"] == single["summary"]
        assert r["repr"] == single["repr"]
        assert r["shape_of_global_sum"] == [16]
    assert "GPT.blocks" in single["summary"] and "×2" in single["summary"]
    assert "embedding=Embedding(" in single["repr"] and "weight=f32[" in single["repr"]
    for r in cluster:  # a split array prints as its shape, never its values
        assert "Array(shape=" in r["pformat"]


def test_saving_a_split_model_to_one_file_says_to_use_orbax(runs):
    single, *cluster = runs
    assert single["serialise"] is None
    for r in cluster:
        assert r["serialise"]["type"] == "CheckpointError"
        assert "orbax" in r["serialise"]["message"]


if __name__ == "__main__":
    _worker(Path(sys.argv[1]), sys.argv[2:])
