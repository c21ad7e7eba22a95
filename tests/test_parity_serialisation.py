"""NumPy scalars in checkpoints, as Equinox's own serialisation tests use them: each
file is saved and loaded by both libraries, and typedeqx must load what Equinox loads,
into the same types and values."""

import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.dtypes import bfloat16

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")
LIBS = pytest.mark.parametrize("lib", [eqx, eqx_ref], ids=["typedeqx", "equinox"])


def _round_trip(lib, tree, like):
    buffer = io.BytesIO()
    lib.tree_serialise_leaves(buffer, tree)
    buffer.seek(0)
    return lib.tree_deserialise_leaves(buffer, like)


@LIBS
def test_a_float64_scalar_loads_into_a_float64_like(lib):
    # `np.float64` subclasses Python's `float`; it must still be read by its dtype.
    out = _round_trip(lib, (np.float64(1e-8),), (np.float64(2.0),))
    assert type(out[0]) is np.float64
    assert out[0].item() == 1e-8


@LIBS
def test_a_jax_array_loads_into_a_numpy_scalar_like(lib):
    # What `jax.jit` does to a tree of NumPy scalars before it is saved.
    tree = jax.jit(lambda x: x)((bfloat16(1e-8), np.float32(1e-8)))
    out = _round_trip(lib, tree, (bfloat16(2), np.float32(2)))
    assert [type(x) for x in out] == [type(bfloat16(0)), np.float32]
    assert [x.item() for x in out] == [bfloat16(1e-8).item(), np.float32(1e-8).item()]


@LIBS
def test_a_numpy_scalar_loads_into_a_jax_array_like(lib):
    out = _round_trip(lib, (np.float32(3.0),), (jnp.array(0.0),))
    assert isinstance(out[0], jax.Array)
    assert out[0].dtype == jnp.float32
    assert out[0].item() == 3.0


def test_a_numpy_scalar_of_another_dtype_is_still_refused():
    # Loading an array into a NumPy scalar like is allowed; a dtype change is not.
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, (jnp.array(1.5),))
    buffer.seek(0)
    with pytest.raises(RuntimeError, match=r"\[0\]: dtype float32 in the file"):
        eqx.tree_deserialise_leaves(buffer, (np.int32(2),))
