"""Byte compatibility with Equinox in both directions, and that mismatches raise the
exception type Equinox raises (a RuntimeError)."""

import io

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from helpers import tree_allclose

eqx_ref = pytest.importorskip("equinox")


def _tree():
    return {
        "w": jnp.arange(6.0).reshape(3, 2),
        "b": jnp.array([1.0, 2.0], jnp.bfloat16),
        "n": np.arange(3, dtype=np.int32),
        "s": [3, 0.5, False, 2j, np.float16(1.5)],
        "k": "static",
    }


def test_typedeqx_reads_equinox_file(tmp_path):
    eqx_ref.tree_serialise_leaves(tmp_path / "ref.eqx", _tree())
    out = eqx.tree_deserialise_leaves(tmp_path / "ref.eqx", _tree())
    ref = eqx_ref.tree_deserialise_leaves(tmp_path / "ref.eqx", _tree())
    assert tree_allclose(out, ref)


def test_equinox_reads_typedeqx_file(tmp_path):
    eqx.tree_serialise_leaves(tmp_path / "ours.eqx", _tree())
    out = eqx_ref.tree_deserialise_leaves(tmp_path / "ours.eqx", _tree())
    assert tree_allclose(out, _tree())


def _records(data):
    """Each `.npy` record of `data` as (header dict, data bytes), read by NumPy."""
    f, out = io.BytesIO(data), []
    while f.tell() < len(data):
        assert np.lib.format.read_magic(f) == (1, 0)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        size = int(np.prod(shape)) * dtype.itemsize
        out.append(((shape, fortran, dtype.str), f.read(size)))
    return out


def test_records_equal_equinox_records():
    # typedeqx writes the same records; only the header padding holds its comment.
    ours, ref = io.BytesIO(), io.BytesIO()
    eqx.tree_serialise_leaves(ours, _tree())
    eqx_ref.tree_serialise_leaves(ref, _tree())
    assert _records(ours.getvalue()) == _records(ref.getvalue())
    assert b"#tdqx " in ours.getvalue() and b"#tdqx " not in ref.getvalue()


def test_equinox_reads_typedeqx_model_via_file_object():
    model = eqx.nn.MLP(2, 2, 4, 1, key=jr.PRNGKey(0))
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, model)
    f.seek(0)
    ref_like = eqx_ref.nn.MLP(2, 2, 4, 1, key=jr.PRNGKey(3))
    loaded = eqx_ref.tree_deserialise_leaves(f, ref_like)
    np.testing.assert_array_equal(loaded.layers[0].weight, model.layers[0].weight)


@pytest.mark.parametrize("module", ["typedeqx", "equinox"])
def test_shape_mismatch_is_runtime_error_in_both(tmp_path, module):
    lib = eqx if module == "typedeqx" else eqx_ref
    eqx_ref.tree_serialise_leaves(tmp_path / "f.eqx", [jnp.ones(3)])
    with pytest.raises(RuntimeError):
        lib.tree_deserialise_leaves(tmp_path / "f.eqx", [jnp.ones(4)])


@pytest.mark.parametrize("module", ["typedeqx", "equinox"])
def test_empty_file_is_runtime_error_in_both(tmp_path, module):
    lib = eqx if module == "typedeqx" else eqx_ref
    (tmp_path / "e.eqx").write_bytes(b"")
    with pytest.raises(RuntimeError):
        lib.tree_deserialise_leaves(tmp_path / "e.eqx", [jnp.ones(4)])


def test_equinox_file_with_trailing_data_is_rejected(tmp_path):
    path = tmp_path / "ref.eqx"
    eqx_ref.tree_serialise_leaves(path, [jnp.ones(2), jnp.ones(3)])
    with pytest.raises(
        eqx.CheckpointError, match=r"140 bytes of trailing data after byte 136"
    ):
        eqx.tree_deserialise_leaves(path, [jnp.ones(2)])
