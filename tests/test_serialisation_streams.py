"""Several trees in one stream, written and read by typedeqx and Equinox in every mix,
and a damaged manifest told apart from an absent one in a file object."""

import io
import itertools

import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx
from helpers import tree_allclose

equinox = pytest.importorskip("equinox")

_TREES = [
    (jnp.arange(3.0),),
    {"w": jnp.ones((2, 2)), "n": 4, "tag": "kept"},
    [np.arange(5, dtype=np.int32), 0.25],
]
_LIKES = [
    (jnp.zeros(3),),
    {"w": jnp.zeros((2, 2)), "n": 0, "tag": "kept"},
    [np.zeros(5, dtype=np.int32), 0.0],
]
_LIBS = {"typedeqx": eqx, "equinox": equinox}


@pytest.mark.parametrize(
    "writers", list(itertools.product(_LIBS, repeat=3)), ids="-".join
)
@pytest.mark.parametrize("reader", list(_LIBS))
def test_every_mix_of_writers_reads_in_both_libraries(writers, reader):
    f = io.BytesIO()
    for writer, tree in zip(writers, _TREES):
        _LIBS[writer].tree_serialise_leaves(f, tree)
    f.seek(0)
    for tree, like in zip(_TREES, _LIKES):
        assert tree_allclose(_LIBS[reader].tree_deserialise_leaves(f, like), tree)
    assert f.tell() == len(f.getvalue())


def test_like_with_more_leaves_stops_at_the_tree_end():
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, [jnp.ones(2)])
    eqx.tree_serialise_leaves(f, [jnp.ones(3)])
    f.seek(0)
    with pytest.raises(eqx.CheckpointError, match=r"\[1\]: not in the file; float32"):
        eqx.tree_deserialise_leaves(f, [jnp.ones(2), jnp.ones(3)])


def test_fewer_leaves_in_like_is_an_error_in_a_stream():
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, [jnp.ones(2), jnp.ones(3)])
    f.seek(0)
    with pytest.raises(eqx.CheckpointError, match=r"\[1\]: float32\[3\] in the file"):
        eqx.tree_deserialise_leaves(f, [jnp.ones(2)])


def _saved():
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, {"a": jnp.arange(4.0), "b": jnp.ones(2)})
    return bytearray(f.getvalue())


_LIKE = {"a": jnp.zeros(4), "b": jnp.zeros(2)}


@pytest.mark.parametrize(
    "needle, offset, message",
    [
        (b"#tdqx ", 4, r"the header has unknown text after its dict: '#tdqy "),
        (b'"i":0', 4, r"the stream starts inside a typedeqx tree \(1\)"),
        (b'"mc":"', 1, r"typedeqx's header comment is damaged"),
        (b'"n":2', 0, r"typedeqx's comment in the header is not valid JSON"),
        (b"\x93NUMPY", 1, r"no \.npy record starts here"),
    ],
)
def test_damaged_manifest_is_not_an_absent_one(needle, offset, message):
    # Each damage is in the first record's header, where the manifest starts; a
    # file object is read, as by a path, as damaged, never as an Equinox file.
    data = _saved()
    data[data.index(needle) + offset] += 1
    with pytest.raises(eqx.CheckpointError, match=message):
        eqx.tree_deserialise_leaves(io.BytesIO(bytes(data)), _LIKE)


@pytest.mark.parametrize("cut", [1, 9, 16, 40, 100])
def test_cut_inside_the_first_header_is_damage(cut):
    data = _saved()
    with pytest.raises(
        eqx.CheckpointError, match=r"at byte 0|cannot be read at byte 0"
    ):
        eqx.tree_deserialise_leaves(io.BytesIO(bytes(data[:cut])), _LIKE)
