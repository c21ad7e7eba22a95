"""filter_jit's generated output builders (`_transform/_output_builder.py`) build
exactly what `tree_unflatten` builds, for every kind of output node."""

import collections
import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx
from typedeqx._transform._output_builder import make_builder
from typedeqx._transform._split import split_tree


class Point(NamedTuple):
    x: jax.Array
    label: str


class Leafy(eqx.Module):
    weight: jax.Array
    act: object
    size: int = eqx.field(static=True, default=3)

    def apply(self, x):
        return self.weight @ x


class Wrapper(eqx.Module):
    fn: object
    weight: jax.Array

    @property
    def __wrapped__(self):
        return self.fn


def _wrapped_function(x):
    """A docstring that `module_update_wrapper` copies onto the instance."""
    return x


class Slotted(eqx.Module):
    __slots__ = ("value",)
    value: jax.Array


@jtu.register_dataclass
@dataclasses.dataclass
class Custom:
    a: jax.Array
    b: jax.Array


def _outputs():
    w = jnp.arange(4.0).reshape(2, 2)
    leafy = Leafy(w, jax.nn.relu)
    wrapped = eqx.module_update_wrapper(Wrapper(_wrapped_function, w))
    return {
        "module": leafy,
        "nested": (leafy, [leafy, None], {"b": w, "a": (w, 1.5)}),
        "namedtuple": Point(w, "p"),
        "ordered dict": collections.OrderedDict(z=w, a=w),
        "custom node": Custom(w, w + 1),
        "slots": Slotted(w),
        "wrapper attributes": wrapped,
        "bound method": leafy.apply,
        "empty": (),
    }


@pytest.mark.parametrize("name", list(_outputs()))
def test_builder_builds_what_unflatten_builds(name):
    tree = _outputs()[name]
    arrays, split = split_tree(tree)
    sample = split.rebuild(arrays)  # as filter_jit does: its first output
    build = make_builder(split.treedef, split.dynamic_indices, split.static, sample)
    assert build is not None
    new = [a + 1 for a in arrays]
    got, want = build(new), split.rebuild(new)
    assert jtu.tree_structure(got) == jtu.tree_structure(want)
    for a, b in zip(jtu.tree_leaves(got), jtu.tree_leaves(want)):
        assert a is b
    for a, b in zip(_nodes(got), _nodes(want)):
        assert type(a) is type(b)
        if isinstance(a, eqx.Module) and hasattr(a, "__dict__"):
            assert list(vars(a)) == list(vars(b))  # same fields, same order


def _nodes(tree):
    out = [tree]
    if isinstance(tree, (tuple, list)):
        for child in tree:
            out += _nodes(child)
    elif isinstance(tree, dict):
        for child in tree.values():
            out += _nodes(child)
    elif isinstance(tree, eqx.Module):
        for child in eqx.tree_flatten_one_level(tree)[0]:
            out += _nodes(child)
    return out


@pytest.mark.parametrize("name", list(_outputs()))
def test_filter_jit_outputs_equal_a_fresh_wrapper(name):
    tree = _outputs()[name]
    arrays, split = split_tree(tree)

    def make(xs):
        return split.rebuild(xs)

    f = eqx.filter_jit(make)
    for step in range(3):  # the second call onwards goes through the builder
        xs = [a + step for a in arrays]
        got = f(xs)
        want = split.rebuild(xs)
        assert jtu.tree_structure(got) == jtu.tree_structure(want)
        for a, b in zip(jtu.tree_leaves(got), jtu.tree_leaves(want)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_plain_outputs_are_returned_as_jax_built_them():
    f = eqx.filter_jit(lambda x: (x, [x * 2], {"y": x}))
    out = f(jnp.ones(2))
    assert type(out) is tuple and type(out[1]) is list and type(out[2]) is dict
