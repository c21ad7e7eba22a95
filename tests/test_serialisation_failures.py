"""Every way a checkpoint can fail to fit raises one CheckpointError that lists each
differing leaf, before anything is returned, and leaves `like` untouched."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx


class AB(eqx.Module):
    a: jax.Array
    b: jax.Array


class BA(eqx.Module):
    b: jax.Array
    a: jax.Array


def _save(tmp_path, tree, name="m.eqx"):
    path = tmp_path / name
    eqx.tree_serialise_leaves(path, tree)
    return path


def _load_fails(path, like, match):
    before = jax.tree_util.tree_map(lambda x: x, like)
    with pytest.raises(eqx.CheckpointError, match=match) as info:
        eqx.tree_deserialise_leaves(path, like)
    assert jax.tree_util.tree_structure(like) == jax.tree_util.tree_structure(before)
    return str(info.value)


def test_mismatch_lists_every_leaf(tmp_path):
    path = _save(tmp_path, {"a": jnp.ones((2, 3)), "b": jnp.ones(2), "c": jnp.ones(1)})
    like = {
        "a": jnp.ones((2, 4)),
        "b": jnp.ones(2, jnp.int32),
        "d": jnp.ones(5),
    }
    msg = _load_fails(path, like, "nothing was loaded")
    assert "['a']: shape (2, 3) in the file, (2, 4) in `like`" in msg
    assert "['b']: dtype float32 in the file, int32 in `like`" in msg
    assert "['c']: float32[1] in the file; not in `like`" in msg
    assert "['d']: not in the file; float32[5] in `like`" in msg
    assert isinstance(eqx.CheckpointError("x"), ValueError)


def test_reordered_fields(tmp_path):
    path = _save(tmp_path, AB(jnp.ones(2), jnp.ones(2)))
    msg = _load_fails(path, BA(jnp.ones(2), jnp.ones(2)), "reordered")
    assert "BA.b: leaf 1 of the file but leaf 0 of `like` (reordered)" in msg


def test_wrong_structure_more_leaves_in_like(tmp_path):
    path = _save(tmp_path, [jnp.ones(2)])
    _load_fails(
        path,
        [jnp.ones(2), jnp.ones(3)],
        r"\[1\]: not in the file; float32\[3\] in `like`",
    )


def test_shape_and_dtype_of_skeleton(tmp_path):
    path = _save(tmp_path, {"w": jnp.ones((3, 3))})
    like = {"w": jax.ShapeDtypeStruct((3, 3), jnp.float16)}
    _load_fails(path, like, r"\['w'\]: dtype float32 in the file, float16 in `like`")


def test_truncated_file(tmp_path):
    path = _save(tmp_path, [jnp.ones(1000)])
    data = path.read_bytes()
    path.write_bytes(data[:2000])
    _load_fails(
        path,
        [jnp.ones(1000)],
        r"the record needs 4\d\d\d bytes .* only 2000 remain: the file is truncated",
    )


def test_truncated_last_record(tmp_path):
    path = _save(tmp_path, [jnp.ones(10), jnp.ones(3)])
    path.write_bytes(path.read_bytes()[:-4])
    _load_fails(
        path, [jnp.ones(10), jnp.ones(3)], r"needs \d+ bytes .* only \d+ remain"
    )


def test_corrupt_leaf_bytes_fail_the_checksum(tmp_path):
    path = _save(tmp_path, [jnp.zeros(100)])
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    _load_fails(path, [jnp.zeros(100)], r"the record's bytes fail their checksum")


def test_foreign_file(tmp_path):
    path = tmp_path / "foreign.eqx"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a checkpoint" * 4)
    _load_fails(
        path,
        [jnp.ones(2)],
        r"\[0\]: cannot be read at byte 0: no \.npy record starts here \(found b'PK",
    )


def test_empty_file(tmp_path):
    path = tmp_path / "empty.eqx"
    path.write_bytes(b"")
    _load_fails(path, [jnp.ones(2)], r"\[0\]: not in the file; float32\[2\] in `like`")


def test_trailing_data_after_manifest(tmp_path):
    path = _save(tmp_path, [jnp.ones(2)])
    path.write_bytes(path.read_bytes() + b"junk")
    _load_fails(path, [jnp.ones(2)], "4 bytes of trailing data after byte")


def test_fewer_leaves_in_like(tmp_path):
    path = _save(tmp_path, [jnp.ones(2), jnp.ones(3)])
    _load_fails(path, [jnp.ones(2)], r"\[1\]: float32\[3\] in the file; not in `like`")


def test_file_object_mismatch_raises():
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, [jnp.ones(2)])
    f.seek(0)
    with pytest.raises(eqx.CheckpointError, match="the file object"):
        eqx.tree_deserialise_leaves(f, [jnp.ones(3)])


@eqx.checked
class Square(eqx.Module):
    w: Float[Array, "n n"]


class Loose(eqx.Module):
    w: jax.Array


def test_loaded_checked_module_reruns_field_contract(tmp_path):
    good = Square(jnp.ones((3, 3)))
    bad_like = eqx.tree_at(
        lambda m: m.w, good, jax.ShapeDtypeStruct((2, 3), jnp.float32)
    )
    path = _save(tmp_path, Loose(jnp.ones((2, 3))))
    with pytest.raises(eqx.ShapeError):  # strict=False: the class differs on purpose
        eqx.tree_deserialise_leaves(path, bad_like, strict=False)
    # The same file loads into a skeleton that satisfies the contract.
    path = _save(tmp_path, good, "good.eqx")
    like = eqx.tree_at(lambda m: m.w, good, jax.ShapeDtypeStruct((3, 3), jnp.float32))
    assert isinstance(eqx.tree_deserialise_leaves(path, like), Square)


_SAVER = """
import sys
import jax.numpy as jnp
import typedeqx as eqx
path = sys.argv[1]
print("ready", flush=True)
i = 0
while True:
    i += 1
    eqx.tree_serialise_leaves(path, {"w": jnp.full((4_000_000,), float(i))})
"""


def test_killed_save_leaves_the_previous_file_whole(tmp_path):
    path = tmp_path / "ckpt.eqx"
    eqx.tree_serialise_leaves(path, {"w": jnp.full((4_000_000,), -1.0)})
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_SAVER), str(path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "the saver never started a save"
            time.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    out = eqx.tree_deserialise_leaves(
        path, {"w": jax.ShapeDtypeStruct((4_000_000,), jnp.float32)}
    )
    w = np.asarray(out["w"])
    assert np.all(w == w[0])
    # The killed save left its temporary file; the next save removes it.
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    eqx.tree_serialise_leaves(path, {"w": jnp.zeros(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.eqx"]


def test_stacked_checked_modules_are_checked_per_member(tmp_path, getkey):
    # An ensemble built with filter_vmap: its Linear weights have an extra leading
    # axis, and their contracts held per member at construction.
    ensemble = eqx.filter_vmap(lambda k: eqx.nn.Linear(3, 4, key=k))(
        jax.random.split(getkey(), 5)
    )
    path = _save(tmp_path, ensemble)
    like = eqx.filter_eval_shape(
        eqx.filter_vmap(lambda k: eqx.nn.Linear(3, 4, key=k)),
        jax.random.split(getkey(), 5),
    )
    loaded = eqx.tree_deserialise_leaves(path, like)
    assert bool(eqx.tree_equal(loaded, ensemble))
    # A stack whose members break the contract is still refused.
    bad_like = eqx.tree_at(
        lambda m: m.weight, like, jax.ShapeDtypeStruct((5, 4, 2), jnp.float32)
    )
    bad = eqx.tree_at(lambda m: m.weight, ensemble, jnp.ones((5, 4, 2)))
    with pytest.raises(eqx.ShapeError):
        eqx.tree_deserialise_leaves(_save(tmp_path, bad, "bad.eqx"), bad_like)


def test_filtered_copies_of_checked_modules_load(tmp_path, getkey):
    # An optimiser state holds copies of the model with non-array fields set to
    # None (optax builds them from `filter(model, is_array)`); they have no contract.
    optax = pytest.importorskip("optax")
    model = eqx.nn.MultiheadAttention(2, 8, dropout_p=0.1, key=getkey())
    state = optax.adam(1e-3).init(eqx.filter(model, eqx.is_array))
    path = _save(tmp_path, (model, state))
    loaded_model, loaded_state = eqx.tree_deserialise_leaves(path, (model, state))
    assert bool(eqx.tree_equal(loaded_model, model))
    assert loaded_state[0].mu.dropout.p is None


def _record(header):
    """A `.npy` record with a hand-written header and 16 bytes of data."""
    text = header + " " * (-(len(header) + 11) % 64) + "\n"
    length = len(text).to_bytes(2, "little")
    return b"\x93NUMPY\x01\x00" + length + text.encode("latin1") + b"\x00" * 16


@pytest.mark.parametrize(
    "header, reason",
    [
        # NumPy's own parser raises tokenize.TokenError here.
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (\"\"\"",
            "the header is not a Python literal (SyntaxError)",
        ),
        # A negative size made typedeqx's old scan step backwards forever.
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }",
            "the header's shape (-4,) is not a tuple of sizes",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2**62,), }",
            "the header is not a Python literal (ValueError)",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2**61,), }".replace(
                "2**61", str(2**61)
            ),
            "bytes (shape (2305843009213693952,), dtype float32) but only",
        ),
        (
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
            "the record holds Python objects (a pickle), not data",
        ),
    ],
)
@pytest.mark.parametrize("form", ["path", "file object"])
def test_hostile_headers_raise_checkpoint_error(tmp_path, header, reason, form):
    data = _record(header)
    path = tmp_path / "hostile.eqx"
    path.write_bytes(data)
    source = path if form == "path" else io.BytesIO(data)
    with pytest.raises(eqx.CheckpointError) as info:
        eqx.tree_deserialise_leaves(source, [jnp.ones(4)])
    message = str(info.value)
    name = repr(str(path)) if form == "path" else "the file object"
    assert message.startswith(f"Cannot load {name}: the .npy record is unreadable: ")
    assert reason in message and "(at byte 0; record 0, read for [0])" in message


def test_object_arrays_are_refused_on_save(tmp_path):
    leaf = np.array([object(), object()])
    with pytest.raises(eqx.CheckpointError, match=r"\['x'\]: .*object"):
        eqx.tree_serialise_leaves(tmp_path / "m.eqx", {"x": leaf})
    assert list(tmp_path.iterdir()) == []
