"""tree_pformat and Module's repr."""

import dataclasses
import functools
from collections import namedtuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx

Point = namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize(
    ("array", "text"),
    [
        (jnp.zeros((3, 4)), "f32[3,4]"),
        (jnp.zeros(()), "f32[]"),
        (jnp.zeros(2, jnp.bfloat16), "bf16[2]"),
        (jnp.zeros(2, jnp.float16), "f16[2]"),
        (jnp.zeros((0, 5), jnp.int32), "i32[0,5]"),
        (jnp.zeros(2, jnp.uint8), "u8[2]"),
        (jnp.zeros(2, bool), "bool[2]"),
        (jnp.zeros(2, jnp.complex64), "c64[2]"),
        (np.zeros(3), "f64[3](numpy)"),
        (np.zeros((2, 1), np.int64), "i64[2,1](numpy)"),
        (np.float32(1.0), "f32[](numpy)"),
    ],
)
def test_arrays_print_as_dtype_and_shape(array, text):
    assert eqx.tree_pformat(array) == text


def test_array_values_never_printed():
    text = eqx.tree_pformat({"w": jnp.arange(1000.0) + 12345.0})
    assert "12345" not in text and text == "{'w': f32[1000]}"


def test_short_arrays_false_uses_array_repr():
    assert eqx.tree_pformat(jnp.array([1, 2]), short_arrays=False) == repr(
        jnp.array([1, 2])
    )


def test_containers_on_one_line():
    tree = [1, (2,), (3, 4), {"a": None}, Point(1, "s"), ()]
    assert (
        eqx.tree_pformat(tree)
        == "[1, (2,), (3, 4), {'a': None}, Point(x=1, y='s'), ()]"
    )


def test_functions_by_name():
    def my_fn(x):
        return x

    tree = [jax.nn.relu, my_fn, len, lambda x: x]
    local = "test_functions_by_name.<locals>"
    expected = (
        f"[<wrapped function relu>, <function {local}.my_fn>, "
        f"<built-in function len>, <function {local}.<lambda>>]"
    )
    assert eqx.tree_pformat(tree, width=200) == expected
    partial = functools.partial(my_fn, 1, k=2)
    assert eqx.tree_pformat(partial) == f"partial(<function {local}.my_fn>, 1, k=2)"


@dataclasses.dataclass
class Config:
    weight: jax.Array
    name: str
    hidden: int = dataclasses.field(default=0, repr=False)


def test_dataclass_fields_with_repr_only():
    text = eqx.tree_pformat(Config(jnp.ones(2), "c", hidden=7))
    assert text == "Config(weight=f32[2], name='c')"


def test_breaks_lines_past_width():
    tree = {
        "first": jnp.zeros((3, 4)),
        "second": [jnp.zeros(2), jnp.zeros(5, jnp.int32)],
    }
    expected = "{\n  'first': f32[3,4],\n  'second': [f32[2], i32[5]]\n}"
    assert eqx.tree_pformat(tree, width=40) == expected
    assert eqx.tree_pformat(tree) == "{'first': f32[3,4], 'second': [f32[2], i32[5]]}"


def test_nested_breaking_and_indent():
    tree = [Point(jnp.zeros(1), jnp.zeros(2)), Point(jnp.zeros(3), jnp.zeros(4))]
    expected = (
        "[\n"
        "    Point(\n"
        "        x=f32[1],\n"
        "        y=f32[2]\n"
        "    ),\n"
        "    Point(\n"
        "        x=f32[3],\n"
        "        y=f32[4]\n"
        "    )\n"
        "]"
    )
    assert eqx.tree_pformat(tree, width=10, indent=4) == expected


def test_every_line_fits_when_possible():
    tree = {
        f"key{i}": [jnp.zeros((i, 2)), {"inner": Point(i, jnp.ones(i))}]
        for i in range(8)
    }
    for width in (30, 50, 80):
        lines = eqx.tree_pformat(tree, width=width).splitlines()
        assert len(lines) > 1
        assert all(len(line) <= width for line in lines)


def test_reference_cycle_is_cut():
    xs: list = [1]
    xs.append(xs)
    assert eqx.tree_pformat(xs) == "[1, ...]"


class Affine(eqx.Module):
    weight: jax.Array
    bias: jax.Array
    size: int = eqx.field(static=True)
    secret: int = eqx.field(static=True, repr=False, default=0)


def test_module_repr_uses_tree_pformat():
    module = Affine(jnp.zeros((2, 3)), jnp.zeros(2), 3)
    assert repr(module) == "Affine(weight=f32[2,3], bias=f32[2], size=3)"
    assert (
        eqx.tree_pformat([module]) == "[Affine(weight=f32[2,3], bias=f32[2], size=3)]"
    )


def test_mlp_repr(getkey):
    mlp = eqx.nn.MLP(2, 3, 4, 1, key=getkey())
    text = repr(mlp)
    assert text.startswith("MLP(\n  layers=(\n    Linear(")
    assert "weight=f32[4,2]" in text and "activation=<wrapped function relu>" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_unset_field_during_init():
    seen = []

    class Early(eqx.Module):
        a: int
        b: int

        def __init__(self):
            self.a = 1
            seen.append(eqx.tree_pformat(self))
            self.b = 2

    Early()
    assert seen == ["Early(a=1, b=<uninitialised>)"]
