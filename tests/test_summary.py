"""`typedeqx.summary`: the table of a shape-only dry run, for checked and unchecked
modules, under vmap and scan, up to a failing call, as text and as a rich table."""

import sys

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Float

import typedeqx
from typedeqx import Module, ShapeError, checked, nn


@checked
class Tagger(Module):
    norm: nn.LayerNorm
    mlp: nn.MLP

    def __init__(self, d_model: int, tags: int, *, key):
        self.norm = nn.LayerNorm(d_model)
        self.mlp = nn.MLP(d_model, tags, 32, 1, key=key)

    def __call__(self, x: Float[Array, "seq d_model"]) -> Float[Array, "seq tags"]:
        return jax.vmap(lambda t: self.mlp(self.norm(t)))(x)


TAGGER_TABLE = """\
Path                  Module     Note  Inputs                       Output                  Params   Bytes
--------------------  ---------  ----  ---------------------------  ----------------------  ------  ------
Tagger                Tagger           x f32[10,16] (seq, d_model)  f32[10,5] (seq, tags)        0     0 B
Tagger.norm           LayerNorm  vmap  x f32[16] (*shape)           f32[16] (*shape)            32   128 B
Tagger.mlp            MLP        vmap  x f32[16] (mlp_in)           f32[5] (mlp_out)             0     0 B
Tagger.mlp.layers[0]  Linear     vmap  x f32[16] (in_features)      f32[32] (out_features)     544  2.2 kB
Tagger.mlp.layers[1]  Linear     vmap  x f32[32] (in_features)      f32[5] (out_features)      165   660 B
Total: 741 parameters (3.0 kB) in 5 called modules"""


# Unchecked: no annotations, two levels of plain parents, one module called twice.
class Block(Module):
    lin: nn.Linear

    def __call__(self, x):
        return jax.nn.relu(self.lin(x))


class Net(Module):
    blocks: list
    scale: jax.Array

    def __call__(self, x):
        for block in self.blocks:
            x = block(x)
        return self.blocks[0](x) * self.scale


def _net(key):
    k1, k2 = jr.split(key)
    return Net(
        [Block(nn.Linear(3, 3, key=k1)), Block(nn.Linear(3, 3, key=k2))], jnp.ones(3)
    )


NET_TABLE = """\
Path               Module  Inputs                  Output                 Params  Bytes
-----------------  ------  ----------------------  ---------------------  ------  -----
Net                Net     x f32[3]                f32[3]                      3   12 B
Net.blocks[0]      Block   x f32[3]                f32[3]                      0    0 B
Net.blocks[0].lin  Linear  x f32[3] (in_features)  f32[3] (out_features)      12   48 B
Net.blocks[1]      Block   x f32[3]                f32[3]                      0    0 B
Net.blocks[1].lin  Linear  x f32[3] (in_features)  f32[3] (out_features)      12   48 B
Net.blocks[0]      Block   x f32[3]                f32[3]
Net.blocks[0].lin  Linear  x f32[3] (in_features)  f32[3] (out_features)
Total: 27 parameters (108 B) in 5 called modules"""


def test_table_of_a_checked_model(getkey):
    model = Tagger(16, 5, key=getkey())
    result = typedeqx.summary(model, jnp.zeros((10, 16)))
    assert str(result) == TAGGER_TABLE
    assert result.error is None
    assert result.output == jax.ShapeDtypeStruct((10, 5), jnp.float32)
    assert [r.path for r in result.rows][:2] == ["Tagger", "Tagger.norm"]
    assert result.total_params == 16 * 2 + 16 * 32 + 32 + 32 * 5 + 5


def test_shape_dtype_structs_are_enough(getkey):
    model = Tagger(16, 5, key=getkey())
    result = typedeqx.summary(model, jax.ShapeDtypeStruct((10, 16), jnp.float32))
    assert str(result) == TAGGER_TABLE


def test_unchecked_parents_and_repeated_calls(getkey):
    result = typedeqx.summary(_net(getkey()), jnp.zeros(3))
    assert str(result) == NET_TABLE
    repeat = result.rows[5]
    assert (repeat.path, repeat.params, repeat.bytes) == ("Net.blocks[0]", None, None)


def test_scanned_layers_are_reported_once_with_their_count(getkey):
    class Deep(Module):
        blocks: Block
        head: nn.Linear

        def __call__(self, x):
            params, static = typedeqx.partition(self.blocks, typedeqx.is_array)

            def body(x, p):
                return typedeqx.combine(p, static)(x), None

            x, _ = jax.lax.scan(body, x, params)
            return self.head(x)

    make = typedeqx.filter_vmap(lambda k: Block(nn.Linear(4, 4, key=k)))
    model = Deep(make(jr.split(getkey(), 3)), nn.Linear(4, 2, key=getkey()))
    result = typedeqx.summary(model, jnp.zeros(4))
    rows = [(r.path, r.note, r.params) for r in result.rows]
    assert rows == [
        ("Deep", "", 0),
        ("Deep.blocks", "×3", 0),
        ("Deep.blocks.lin", "×3", 3 * (16 + 4)),
        ("Deep.head", "", 10),
    ]
    assert result.rows[2].inputs == ["x f32[4] (in_features)"]


def test_vmapped_ensemble_shows_per_example_shapes(getkey):
    class Ensemble(Module):
        members: nn.Linear

        def __call__(self, x):
            axes = (typedeqx.if_array(0), None)
            return typedeqx.filter_vmap(lambda m, x: m(x), in_axes=axes)(
                self.members, x
            )

    members = typedeqx.filter_vmap(lambda k: nn.Linear(4, 3, key=k))(
        jr.split(getkey(), 2)
    )
    result = typedeqx.summary(Ensemble(members), jnp.zeros(4))
    row = result.rows[1]
    assert (row.path, row.note, row.params) == ("Ensemble.members", "vmap ×2", 30)
    assert (row.inputs, row.output) == (
        ["x f32[4] (in_features)"],
        "f32[3] (out_features)",
    )
    assert result.rows[0].output == "f32[2,3]"


def test_failing_contract_ends_the_table_at_the_failing_call(getkey):
    model = Tagger(16, 5, key=getkey())
    result = typedeqx.summary(model, jnp.zeros((10, 8)))
    assert isinstance(result.error, ShapeError)
    assert result.error.path == "Tagger.norm"
    assert result.output is None
    assert [(r.path, r.note, r.output) for r in result.rows] == [
        ("Tagger", "", "-"),
        ("Tagger.norm", "vmap failed", "-"),
    ]
    text = str(result)
    assert text.endswith(
        "ShapeError: Tagger.norm (LayerNorm.__call__): argument x is f32[8], expected "
        'Float[Array, "*shape"] with *shape=(16,) (bound by static field shape) '
        "(its axes for *shape are (8,))"
    )


def test_classes_are_restored(getkey):
    before = {cls: cls.__dict__["__call__"] for cls in (Net, Block, nn.Linear)}
    typedeqx.summary(_net(getkey()), jnp.zeros(3))
    typedeqx.summary(_net(getkey()), jnp.zeros(5))  # fails inside
    assert {cls: cls.__dict__["__call__"] for cls in before} == before


class Pair(Module):
    a: nn.Linear
    b: nn.Linear

    def __call__(self, x):
        return self.b(self.a(x))


class JittedBlock(Module):
    lin: nn.Linear

    @typedeqx.filter_jit
    def __call__(self, x):
        return jax.nn.relu(self.lin(x))


class JittedNet(Module):
    first: JittedBlock
    second: JittedBlock  # same shapes as `first`: told apart by identity

    @typedeqx.filter_jit
    def __call__(self, x):
        return self.second(self.first(x))


class DirectBlock(Module):
    lin: nn.Linear

    def __call__(self, x):
        return jax.nn.relu(self.lin(x))


class DirectNet(Module):
    first: DirectBlock
    second: DirectBlock

    def __call__(self, x):
        return self.second(self.first(x))


def test_jitted_methods_are_seen_every_time(getkey):
    k1, k2 = getkey(), getkey()
    jitted = JittedNet(
        JittedBlock(nn.Linear(4, 4, key=k1)), JittedBlock(nn.Linear(4, 4, key=k2))
    )
    direct = DirectNet(DirectBlock(jitted.first.lin), DirectBlock(jitted.second.lin))
    x = jnp.zeros(4)
    expected = str(typedeqx.summary(direct, x)).replace("Direct", "Jitted")
    assert "JittedNet.second.lin" in expected
    assert str(typedeqx.summary(jitted, x)) == expected
    jitted(x)  # compiled: JAX would reuse this trace
    assert str(typedeqx.summary(jitted, x)) == expected
    assert str(typedeqx.summary(jitted, x)) == expected
    before = {cls: cls.__dict__["__call__"] for cls in (JittedNet, JittedBlock)}
    typedeqx.summary(jitted, x)
    assert {cls: cls.__dict__["__call__"] for cls in before} == before  # restored


class TwoLinears(Module):
    a: nn.Linear
    b: nn.Linear  # same shapes as `a`

    def __call__(self, x):
        mapped = jax.vmap(lambda m, t: m(t), in_axes=(None, 0))  # `m` not mapped
        return mapped(self.b, mapped(self.a, x))


def test_modules_of_the_same_shapes_are_told_apart(getkey):
    model = TwoLinears(nn.Linear(4, 4, key=getkey()), nn.Linear(4, 4, key=getkey()))
    rows = typedeqx.summary(model, jnp.zeros((3, 4))).rows
    assert [(r.path, r.params) for r in rows] == [
        ("TwoLinears", 0),
        ("TwoLinears.a", 20),
        ("TwoLinears.b", 20),
    ]


class TwoStacks(Module):
    enc: nn.Linear  # a stack of 2
    dec: nn.Linear  # another, of the same shapes

    def __call__(self, x):
        h, _ = jax.lax.scan(lambda c, layer: (layer(c), None), x, self.enc)
        h, _ = jax.lax.scan(lambda c, layer: (layer(c), None), h, self.dec)
        return h


def test_slices_of_two_stacks_of_the_same_shapes_are_not_given_a_path(getkey):
    def stack(key):
        return typedeqx.filter_vmap(lambda k: nn.Linear(4, 4, key=k))(jr.split(key))

    model = TwoStacks(stack(getkey()), stack(getkey()))
    rows = typedeqx.summary(model, jnp.zeros(4)).rows
    # Nothing tells which stack a slice came from: neither is named.
    assert [(r.path, r.count) for r in rows] == [
        ("TwoStacks", None),
        ("Linear", None),
        ("Linear", None),
    ]


def test_no_arithmetic_runs(getkey):
    calls = []

    class Spy(Module):
        def __call__(self, x):
            jax.debug.callback(lambda: calls.append(1))
            return x

    typedeqx.summary(Spy(), jnp.zeros(3))
    assert calls == []


def test_a_model_without_modules_is_refused():
    with pytest.raises(ValueError, match="records the calls of Modules"):
        typedeqx.summary(lambda x: x, jnp.zeros(3))


def test_rich_rendering(getkey):
    from rich.console import Console
    from rich.table import Table

    result = typedeqx.summary(_net(getkey()), jnp.zeros(3))
    table = result.rich_table()
    assert isinstance(table, Table)
    assert [c.header for c in table.columns] == [
        "Path",
        "Module",
        "Inputs",
        "Output",
        "Params",
        "Bytes",
    ]
    console = Console(record=True, width=200)
    console.print(result)
    text = console.export_text()
    assert "Net.blocks[1].lin" in text
    assert "f32[3] (out_features)" in text
    assert "Total: 27 parameters (108 B)" in text


def test_plain_rendering_without_rich(getkey, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.table", None)
    result = typedeqx.summary(_net(getkey()), jnp.zeros(3))
    assert str(result) == NET_TABLE
    with pytest.raises(ImportError, match=r"needs the optional package rich.*print"):
        result.rich_table()


def test_readme_shows_this_table():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Model summaries", 1)[1]
    source = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    table = re.search(r"```text\n(.*?)\n```", section, re.S).group(1)
    assert table == TAGGER_TABLE
    namespace: dict = {}
    printed = []
    exec(source, {**namespace, "print": lambda x: printed.append(str(x))})
    assert printed == [TAGGER_TABLE]
