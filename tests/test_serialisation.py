"""tree_serialise_leaves / tree_deserialise_leaves: round trips, custom filter specs,
skeletons from filter_eval_shape, and the manifest typedeqx appends."""

import io
import re

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from helpers import tree_allclose


def _mixed_tree():
    return {
        "jax": jnp.arange(6.0).reshape(2, 3),
        "numpy": np.arange(4, dtype=np.int16),
        "scalars": [1, 2.5, True, 1 + 2j],
        "bf16": jnp.array([1.5, -2.0], dtype=jnp.bfloat16),
        "bf16_scalar": jnp.bfloat16(3.0),
        "np_scalar": np.float32(0.25),
        "static": "kept",
        "nothing": None,
    }


def _assert_same_leaves(a, b):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        assert type(x) is type(y)
        if hasattr(x, "dtype"):
            assert x.dtype == y.dtype and np.shape(x) == np.shape(y)
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        else:
            assert x == y


def test_round_trip_path_adds_suffix(tmp_path):
    tree = _mixed_tree()
    eqx.tree_serialise_leaves(tmp_path / "model", tree)
    assert (tmp_path / "model.eqx").exists()
    like = jax.tree_util.tree_map(lambda x: x, tree)
    _assert_same_leaves(
        eqx.tree_deserialise_leaves(str(tmp_path / "model"), like), tree
    )


def test_round_trip_file_object():
    tree = _mixed_tree()
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, tree)
    f.seek(0)
    _assert_same_leaves(eqx.tree_deserialise_leaves(f, tree), tree)


def test_loaded_values_replace_like(tmp_path):
    eqx.tree_serialise_leaves(tmp_path / "a.eqx", {"w": jnp.full(3, 7.0), "n": 5})
    out = eqx.tree_deserialise_leaves(tmp_path / "a.eqx", {"w": jnp.zeros(3), "n": 0})
    assert out["n"] == 5 and type(out["n"]) is int
    np.testing.assert_array_equal(out["w"], np.full(3, 7.0, np.float32))


def test_two_trees_in_one_stream():
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, (jnp.ones(2),))
    eqx.tree_serialise_leaves(f, (jnp.zeros(3), 4))
    f.seek(0)
    first = eqx.tree_deserialise_leaves(f, (jnp.zeros(2),))
    second = eqx.tree_deserialise_leaves(f, (jnp.ones(3), 0))
    assert tree_allclose(first, (jnp.ones(2),))
    assert tree_allclose(second, (jnp.zeros(3), 4))


def test_skeleton_from_filter_eval_shape(tmp_path):
    model = eqx.nn.MLP(3, 2, 8, 2, key=jr.PRNGKey(0))
    eqx.tree_serialise_leaves(tmp_path / "mlp.eqx", model)
    skeleton = eqx.filter_eval_shape(eqx.nn.MLP, 3, 2, 8, 2, key=jr.PRNGKey(1))
    leaves = jax.tree_util.tree_leaves(skeleton)
    assert all(
        isinstance(x, jax.ShapeDtypeStruct) for x in leaves if hasattr(x, "shape")
    )
    loaded = eqx.tree_deserialise_leaves(tmp_path / "mlp.eqx", skeleton)
    assert tree_allclose(loaded, model)
    x = jnp.ones(3)
    assert tree_allclose(loaded(x), model(x))


def test_custom_filter_spec_skips_jax_arrays():
    tree = (jnp.array([1.0, 2.0]), [4, 5])

    def save_spec(f, x):
        if not isinstance(x, jax.Array):
            eqx.default_serialise_filter_spec(f, x)

    def load_spec(f, x):
        if isinstance(x, jax.Array):
            return x
        return eqx.default_deserialise_filter_spec(f, x)

    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, tree, filter_spec=save_spec)
    f.seek(0)
    like = (jnp.array([9.0, 9.0]), [0, 0])
    out = eqx.tree_deserialise_leaves(f, like, filter_spec=load_spec)
    assert tree_allclose(out, (jnp.array([9.0, 9.0]), [4, 5]))


def test_filter_spec_as_prefix_tree():
    tree = {"frozen": jnp.ones(2), "trained": jnp.full(2, 3.0)}
    skip = lambda f, x: None  # noqa: E731
    f = io.BytesIO()
    spec = {"frozen": skip, "trained": eqx.default_serialise_filter_spec}
    eqx.tree_serialise_leaves(f, tree, filter_spec=spec)
    f.seek(0)
    keep = lambda f, x: x  # noqa: E731
    load_spec = {"frozen": keep, "trained": eqx.default_deserialise_filter_spec}
    like = {"frozen": jnp.zeros(2), "trained": jnp.zeros(2)}
    out = eqx.tree_deserialise_leaves(f, like, filter_spec=load_spec)
    assert tree_allclose(out, {"frozen": jnp.zeros(2), "trained": jnp.full(2, 3.0)})


def test_is_leaf_treats_node_as_leaf():
    tree = {"pair": (1.0, 2.0), "w": jnp.ones(2)}

    def save_pair(f, x):
        if isinstance(x, tuple):
            np.save(f, np.array(x))
        else:
            eqx.default_serialise_filter_spec(f, x)

    def load_pair(f, x):
        if isinstance(x, tuple):
            return tuple(float(v) for v in np.load(f))
        return eqx.default_deserialise_filter_spec(f, x)

    is_pair = lambda x: isinstance(x, tuple)  # noqa: E731
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, tree, filter_spec=save_pair, is_leaf=is_pair)
    f.seek(0)
    like = {"pair": (0.0, 0.0), "w": jnp.zeros(2)}
    out = eqx.tree_deserialise_leaves(f, like, filter_spec=load_pair, is_leaf=is_pair)
    assert out["pair"] == (1.0, 2.0)


def test_non_npy_custom_format_round_trips():
    def save_raw(f, x):
        f.write(b"RAW" + np.asarray(x, np.float32).tobytes())

    def load_raw(f, x):
        assert f.read(3) == b"RAW"
        return jnp.asarray(np.frombuffer(f.read(4 * x.size), np.float32))

    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, [jnp.arange(3.0)], filter_spec=save_raw)
    f.seek(0)
    out = eqx.tree_deserialise_leaves(f, [jnp.zeros(3)], filter_spec=load_raw)
    assert tree_allclose(out, [jnp.arange(3.0)])


def test_state_round_trip(tmp_path):
    if not hasattr(eqx.nn, "State"):
        pytest.skip("typedeqx.nn.State is not built yet")
    make = eqx.nn.make_with_state(eqx.nn.BatchNorm)
    model, state = make(3, "batch", mode="ema")
    x = jnp.arange(6.0).reshape(2, 3)
    _, state = jax.vmap(model, (0, None), (0, None), axis_name="batch")(x, state)
    eqx.tree_serialise_leaves(tmp_path / "s.eqx", (model, state))
    _, fresh = make(3, "batch", mode="ema")
    out_model, out_state = eqx.tree_deserialise_leaves(
        tmp_path / "s.eqx", (model, fresh)
    )
    assert isinstance(out_state, eqx.nn.State)
    assert tree_allclose(out_state, state)
    assert not tree_allclose(fresh, state)


def test_save_error_names_the_leaf():
    def broken(f, x):
        raise OSError("disk full")

    with pytest.raises(RuntimeError, match=r"\['w'\].*disk full"):
        eqx.tree_serialise_leaves(io.BytesIO(), {"w": jnp.ones(1)}, filter_spec=broken)


def test_failed_save_to_path_keeps_old_file(tmp_path):
    path = tmp_path / "m.eqx"
    eqx.tree_serialise_leaves(path, {"w": jnp.ones(2)})

    def broken(f, x):
        raise OSError("disk full")

    with pytest.raises(eqx.CheckpointError):
        eqx.tree_serialise_leaves(path, {"w": jnp.zeros(2)}, filter_spec=broken)
    assert tree_allclose(
        eqx.tree_deserialise_leaves(path, {"w": jnp.zeros(2)}), {"w": jnp.ones(2)}
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.eqx"]


class _Spanning(jax.Array):
    # Stands in for an array sharded over several processes, which one process
    # cannot build; the check reads only `is_fully_addressable`, shape and dtype.
    shape = (4, 2)
    dtype = jnp.dtype("float32")
    is_fully_addressable = False


@pytest.mark.parametrize("form", ["path", "file object"])
def test_array_spanning_processes_is_refused(tmp_path, form):
    model = eqx.nn.Linear(2, 4, key=jr.PRNGKey(0))
    model = eqx.tree_at(lambda m: m.weight, model, _Spanning.__new__(_Spanning))
    f = io.BytesIO()
    target = tmp_path / "m.eqx" if form == "path" else f
    message = (
        "Cannot save the leaf at Linear.weight: it is a jax.Array of shape (4, 2) and "
        "dtype float32 sharded across processes (`is_fully_addressable` is False), so "
        "this process holds only part of it. Save sharded checkpoints with "
        "orbax.checkpoint, where each process writes its own shards, or gather the "
        "array first with "
        "`jax.experimental.multihost_utils.process_allgather(x, tiled=True)`."
    )
    with pytest.raises(eqx.CheckpointError, match=re.escape(message) + "$"):
        eqx.tree_serialise_leaves(target, model)
    assert f.getvalue() == b"" and list(tmp_path.iterdir()) == []
    with pytest.raises(eqx.CheckpointError, match="sharded across processes"):
        eqx.default_serialise_filter_spec(f, _Spanning.__new__(_Spanning))


def test_custom_leaf_serialisation_as_in_equinox(tmp_path):
    # Equinox's own test: the saved tree skips JAX arrays, and `like` is a different
    # tree (no JAX arrays) whose callables are replaced by the load spec.
    func, obj = (lambda x: x), object()
    tree = (jnp.array(1), jnp.array([1.0, 2.0]), np.array(1), np.array([1.0, 2.0]))
    tree += ((True, 1, 1.0, 1 + 1j), func, obj)

    def save_spec(f, x):
        if not isinstance(x, jax.Array):
            eqx.default_serialise_filter_spec(f, x)

    eqx.tree_serialise_leaves(tmp_path, tree, filter_spec=save_spec)
    like_obj = object()
    like = (np.array(5), np.array([6.0, 7.0]), (False, 6, 6.0, 6 + 6j), func, like_obj)
    unlike = lambda x: -x  # noqa: E731

    def load_spec(f, x):
        return unlike if callable(x) else eqx.default_deserialise_filter_spec(f, x)

    out = eqx.tree_deserialise_leaves(tmp_path, like, filter_spec=load_spec)
    assert bool(eqx.tree_equal(out[:3], tree[2:5]))
    assert out[3] is unlike and out[4] is like_obj


def test_custom_format_leaf_in_a_stream_with_a_checked_tree():
    # A leaf written in its own format (not .npy) by a custom spec, then a tree
    # saved with the default spec, read back in one stream.
    def save_raw(f, x):
        f.write(b"RAW" + np.asarray(x, np.float32).tobytes())

    def load_raw(f, x):
        assert f.read(3) == b"RAW"
        return jnp.asarray(np.frombuffer(f.read(4 * x.size), np.float32))

    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, [jnp.arange(3.0)], filter_spec=save_raw)
    eqx.tree_serialise_leaves(f, {"w": jnp.ones(2)})
    f.seek(0)
    first = eqx.tree_deserialise_leaves(f, [jnp.zeros(3)], filter_spec=load_raw)
    second = eqx.tree_deserialise_leaves(f, {"w": jnp.zeros(2)})
    assert tree_allclose(first, [jnp.arange(3.0)])
    assert tree_allclose(second, {"w": jnp.ones(2)})


class _Counting(io.RawIOBase):
    """A file object that counts the bytes read from it."""

    def __init__(self, data):
        self._f = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, b):
        n = self._f.readinto(b)
        self.bytes_read += n
        return n

    def seek(self, offset, whence=0):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()


def test_load_reads_each_byte_once():
    tree = {"w": jnp.ones((64, 64)), "b": jnp.zeros(64), "n": 3}
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, tree)
    counting = _Counting(f.getvalue())
    assert tree_allclose(eqx.tree_deserialise_leaves(counting, tree), tree)
    assert counting.bytes_read == len(f.getvalue())


def test_save_and_load_allocate_no_second_copy():
    tracemalloc = pytest.importorskip("tracemalloc")
    big = np.ones(4_000_000, np.float32)  # 16 MB
    like = {"w": np.zeros(4_000_000, np.float32)}
    f = io.BytesIO()
    tracemalloc.start()
    try:
        eqx.tree_serialise_leaves(f, {"w": big})
        saved = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        f.seek(0)
        before = tracemalloc.get_traced_memory()[0]  # the file object's buffer
        eqx.tree_deserialise_leaves(f, like)
        loaded = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    # BytesIO's own buffer grows to the file's size while saving; nothing else is
    # as large. Loading holds the one NumPy buffer of the leaf.
    assert saved < 1.3 * big.nbytes + 2**20
    assert loaded < 1.1 * big.nbytes + 2**20
