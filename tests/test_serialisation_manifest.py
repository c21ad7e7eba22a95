"""The manifest's static configuration is compared with `like`: one error lists every
difference by path; `strict=False` loads into a deliberately changed configuration."""

import io
import re

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx

_HINT = (
    "Build `like` with the configuration that saved the file (e.g. "
    "`typedeqx.filter_eval_shape(Model, ...)`), or pass a `filter_spec` that skips "
    "the leaves that differ, or pass `strict=False` to load into a deliberately "
    "changed configuration."
)


class Net(eqx.Module):
    conv1: eqx.nn.Conv2d
    norm: eqx.Module
    mlp: eqx.nn.MLP

    def __init__(self, stride=1, norm="layer", eps=1e-5, act=jax.nn.relu, *, key):
        k1, k2 = jr.split(key)
        self.conv1 = eqx.nn.Conv2d(3, 4, 3, stride=stride, key=k1)
        make = eqx.nn.LayerNorm if norm == "layer" else eqx.nn.RMSNorm
        self.norm = make(4, eps=eps)
        self.mlp = eqx.nn.MLP(4, 2, 8, 1, activation=act, key=k2)


def _saved(tree):
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, tree)
    f.seek(0)
    return f


def _message(*lines):
    body = "\n".join(f"  - {line}" for line in lines)
    return (
        "Cannot load the file object: the file and `like` disagree; nothing was "
        f"loaded.\n{body}\n{_HINT}"
    )


@pytest.mark.parametrize(
    "change, line",
    [
        (dict(stride=2), "Net.conv1.stride: (1, 1) in the file, (2, 2) in `like`"),
        (dict(norm="rms"), "Net.norm: LayerNorm in the file, RMSNorm in `like`"),
        (dict(eps=1e-6), "Net.norm.eps: 1e-05 in the file, 1e-06 in `like`"),
        (
            dict(act=jax.nn.tanh),
            "Net.mlp.activation: relu in the file, tanh in `like`",
        ),
    ],
)
def test_static_configuration_must_match(getkey, change, line):
    f = _saved(Net(key=getkey()))
    like = eqx.filter_eval_shape(Net, **change, key=getkey())
    with pytest.raises(eqx.CheckpointError, match=re.escape(_message(line)) + "$"):
        eqx.tree_deserialise_leaves(f, like)


def test_every_difference_is_listed_once(getkey):
    f = _saved(Net(key=getkey()))
    like = eqx.filter_eval_shape(Net, stride=2, eps=1e-6, key=getkey())
    with pytest.raises(eqx.CheckpointError) as info:
        eqx.tree_deserialise_leaves(f, like)
    assert str(info.value) == _message(
        "Net.conv1.stride: (1, 1) in the file, (2, 2) in `like`",
        "Net.norm.eps: 1e-05 in the file, 1e-06 in `like`",
    )


def test_strict_false_loads_a_deliberate_migration(getkey):
    model = Net(key=getkey())
    f = _saved(model)
    like = eqx.filter_eval_shape(Net, stride=2, key=getkey())
    out = eqx.tree_deserialise_leaves(f, like, strict=False)
    assert out.conv1.stride == (2, 2)
    assert bool(eqx.tree_equal(out.conv1.weight, model.conv1.weight))
    # Shapes are still checked with strict=False.
    f.seek(0)
    wrong = {"w": jnp.ones(3)}
    with pytest.raises(eqx.CheckpointError, match="shape"):
        eqx.tree_deserialise_leaves(_saved({"w": jnp.ones(2)}), wrong, strict=False)


def test_python_scalar_type_is_checked():
    with pytest.raises(
        eqx.CheckpointError,
        match=re.escape(_message("['lr']: float in the file, int in `like`")) + "$",
    ):
        eqx.tree_deserialise_leaves(_saved({"lr": 0.75}), {"lr": 1})
    out = eqx.tree_deserialise_leaves(_saved({"lr": 0.75}), {"lr": 0.0})
    assert out == {"lr": 0.75}


def test_python_scalar_type_is_checked_in_an_equinox_file():
    equinox = pytest.importorskip("equinox")
    f = io.BytesIO()
    equinox.tree_serialise_leaves(f, {"lr": 0.75})
    f.seek(0)
    with pytest.raises(
        eqx.CheckpointError,
        match=re.escape("['lr']: dtype float64 in the file, Python int in `like`"),
    ):
        eqx.tree_deserialise_leaves(f, {"lr": 1})


def test_non_array_leaf_types_are_checked():
    f = _saved({"w": jnp.ones(2), "name": "a"})
    with pytest.raises(
        eqx.CheckpointError, match=re.escape("['name']: str in the file, int in `like`")
    ):
        eqx.tree_deserialise_leaves(f, {"w": jnp.ones(2), "name": 3})


def test_a_large_static_configuration_is_kept_as_a_checksum(getkey):
    # 2 records cannot hold 40 kB of incompressible static text: only a checksum
    # of it is kept, and a difference is still found.
    import numpy as np

    words = [f"{x:08x}" for x in np.random.default_rng(0).integers(0, 2**32, 5000)]

    class Big(eqx.Module):
        w: jax.Array
        table: tuple = eqx.field(static=True)

    f = _saved(Big(jnp.ones(2), tuple(words)))
    assert eqx.tree_deserialise_leaves(f, Big(jnp.zeros(2), tuple(words))).w[0] == 1
    with pytest.raises(eqx.CheckpointError, match="only its checksum was kept"):
        eqx.tree_deserialise_leaves(
            _saved(Big(jnp.ones(2), tuple(words))), Big(jnp.zeros(2), ("x",))
        )
