"""`ShapeError`: its structured attributes, its message, module paths through nested
modules, hints, and where its traceback ends."""

import os
import traceback

import jax
import jax.numpy as jnp
import jax.random as jr
import jaxtyping
import pytest
from jaxtyping import Array, Float

import typedeqx
from helpers import ones
from typedeqx import Module, ShapeError, checked, field


@checked
class Linear(Module):
    weight: Float[Array, "out_features in_features"]
    in_features: int = field(static=True)

    def __call__(
        self, x: Float[Array, " in_features"]
    ) -> Float[Array, " out_features"]:
        return self.weight @ x


def linear(n_in, n_out):
    return Linear(jnp.full((n_out, n_in), 0.5, jnp.float32), n_in)


@checked
class MLP(Module):
    layers: list[Linear]

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " m"]:
        for layer in self.layers:
            x = layer(x)
        return x


@checked
class Block(Module):
    attention: MLP
    extras: dict[str, Linear]

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " m"]:
        return self.extras["out"](self.attention(x))


@checked
class Transformer(Module):
    blocks: tuple[Block, ...]

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " m"]:
        for block in self.blocks:
            x = block(x)
        return x


def test_is_a_jaxtyping_type_check_error():
    assert issubclass(ShapeError, jaxtyping.TypeCheckError)
    assert issubclass(ShapeError, TypeError)
    assert ShapeError.__module__ == "typedeqx"


def test_attributes_and_message_of_a_mismatch():
    mlp = MLP([linear(3, 4), linear(3, 2)])
    with pytest.raises(ShapeError) as info:
        mlp(ones(3))
    e = info.value
    assert e.path == "MLP.layers[1]"
    assert e.owner == "Linear"
    assert e.member == "__call__"
    assert e.parameter == "x"
    assert e.expected == 'Float[Array, "in_features"]'
    assert e.got == "f32[4]"
    assert e.bindings == {"out_features": 2, "in_features": 3}
    assert e.bound_by == {
        "out_features": "field weight f32[2,3]",
        "in_features": "field weight f32[2,3]",
    }
    assert str(e) == (
        "MLP.layers[1] (Linear.__call__): argument x is f32[4], expected "
        'Float[Array, "in_features"] with in_features=3 '
        "(bound by field weight f32[2,3])"
    )


def test_top_level_message_names_class_and_member():
    with pytest.raises(ShapeError) as info:
        linear(3, 2)(ones(5))
    assert info.value.path == "Linear"
    assert str(info.value).startswith("Linear.__call__: argument x is f32[5]")


def test_path_through_nested_modules_dicts_and_tuples():
    def block(width_out):
        return Block(MLP([linear(3, 3), linear(3, 4)]), {"out": linear(width_out, 2)})

    model = Transformer((block(4), block(4), block(4), block(5)))
    with pytest.raises(ShapeError) as info:
        model(ones(3))
    # block 0 maps 3 -> 2, so block 1's first layer gets a 2-vector
    assert info.value.path == "Transformer.blocks[1].attention.layers[0]"

    model = Transformer((block(4), block(5)))
    with pytest.raises(ShapeError) as info:
        Block.__call__(model.blocks[1], ones(3))
    assert info.value.path == "Block.extras['out']"


def test_path_through_unchecked_modules():
    class Plain(Module):  # not checked: the error passes through unchanged
        inner: MLP

        def __call__(self, x):
            return self.inner(x)

    @checked
    class Top(Module):
        plain: Plain

        def __call__(self, x: Float[Array, " n"]):
            return self.plain(x)

    top = Top(Plain(MLP([linear(3, 4), linear(2, 1)])))
    with pytest.raises(ShapeError) as info:
        top(ones(3))
    assert info.value.path == "Top.plain.inner.layers[1]"


def test_path_when_the_module_is_not_a_field():
    @checked
    class Caller(Module):
        scale: float

        def __call__(self, layer: Linear, x: Float[Array, " n"]):
            return layer(x) * self.scale

    with pytest.raises(ShapeError) as info:
        Caller(2.0)(linear(3, 2), ones(4))
    assert info.value.path == "Caller > Linear"


def test_path_unchanged_by_other_methods_of_the_same_module():
    @checked
    class Twice(Module):
        layer: Linear

        def __call__(self, x: Float[Array, " n"]):
            return self.helper(x)

        def helper(self, x: Float[Array, " n"]):
            return self.layer(x)

    with pytest.raises(ShapeError) as info:
        Twice(linear(3, 3))(ones(2))
    assert info.value.path == "Twice.layer"


def test_init_error_attributes():
    with pytest.raises(ShapeError) as info:
        Linear(ones(2, 3), 4)
    e = info.value
    assert (e.path, e.member, e.parameter) == ("Linear", "__init__", "in_features")
    assert e.got == "4"
    assert "in_features=3 (bound by field weight f32[2,3])" in str(e)


def test_return_parameter_name():
    @checked
    def f(x: Float[Array, " n"]) -> Float[Array, " n"]:
        return x[:1]

    with pytest.raises(ShapeError) as info:
        f(ones(3))
    assert info.value.parameter == "return"
    assert info.value.path == "f"
    assert str(info.value).startswith("f: return value is f32[1]")


def test_dtype_mismatch_says_so():
    with pytest.raises(
        ShapeError,
        match=r"argument x is i32\[3\], .*\(expected a float dtype, got i32\)",
    ):
        linear(3, 2)(ones(3, dtype=jnp.int32))


def test_batched_module_hint(getkey):
    stack = jax.vmap(lambda k: Linear(jr.normal(k, (2, 3)), 3))(jr.split(getkey(), 5))
    with pytest.raises(ShapeError) as info:
        stack(ones(3))
    e = info.value
    assert e.parameter == "weight" and e.got == "f32[5,2,3]"
    assert "looks batched" in e.hint and "filter_vmap" in e.hint
    assert "hint: this Linear looks batched" in str(e)


def test_batch_axis_hint():
    with pytest.raises(
        ShapeError, match="looks like a batch of 8 inputs of shape f32\\[3\\]"
    ):
        linear(3, 2)(ones(8, 3))


def test_transposed_input_hint():
    @checked
    def f(w: Float[Array, "a b"], x: Float[Array, "b c"]):
        return w @ x

    with pytest.raises(ShapeError) as info:
        f(ones(2, 3), ones(5, 3))
    assert str(info.value) == (
        'f: argument x is f32[5,3], expected Float[Array, "b c"] with b=3 (bound by '
        "argument w f32[2,3])\n  hint: x.T would be f32[3,5], which fits."
    )


def test_no_hint_when_nothing_fits():
    with pytest.raises(ShapeError) as info:
        linear(3, 2)(ones(5))
    assert info.value.hint is None
    assert "hint" not in str(info.value)


def test_message_never_prints_array_values():
    x = jnp.arange(5.0) + 123.25
    with pytest.raises(ShapeError) as info:
        linear(3, 2)(x)
    assert "123" not in str(info.value)
    assert "f32[5]" in str(info.value)


def _last_frame(error: BaseException) -> traceback.FrameSummary:
    return traceback.extract_tb(error.__traceback__)[-1]


def test_traceback_under_jit_ends_at_the_user_call():
    def forward(model, x):
        return model(x)  # the user's call

    with pytest.raises(ShapeError) as info:
        jax.jit(forward)(linear(3, 2), ones(4))
    last = _last_frame(info.value)
    assert (last.filename, last.name) == (__file__, "forward")
    jax_dir = os.path.dirname(jax.__file__)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert not any(f.filename.startswith(jax_dir) for f in frames)

    # inside a model, the call that broke the contract is the layer call
    with pytest.raises(ShapeError) as info:
        jax.jit(forward)(MLP([linear(3, 4), linear(3, 2)]), ones(3))
    last = _last_frame(info.value)
    assert (last.filename, last.name, last.line) == (
        __file__,
        "__call__",
        "x = layer(x)",
    )


def test_traceback_under_filter_jit_ends_at_the_user_call():
    @typedeqx.filter_jit
    def forward(model, x):
        return model(x)

    with pytest.raises(ShapeError) as info:
        forward(linear(3, 2), ones(4))
    assert _last_frame(info.value).name == "forward"


def test_eager_error_does_not_chain_internal_exceptions():
    with pytest.raises(ShapeError) as info:
        linear(3, 2)(ones(4))
    assert info.value.__context__ is None
    assert info.value.__cause__ is None


def test_pickles_with_its_attributes():
    import pickle

    with pytest.raises(ShapeError) as info:
        linear(3, 2)(ones(5))
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    assert (copy.path, copy.parameter, copy.bindings) == (
        "Linear",
        "x",
        {"out_features": 2, "in_features": 3},
    )


def test_static_size_made_stale_by_surgery_says_so(getkey):
    lin = typedeqx.nn.Linear(3, 4, key=getkey())
    stale = typedeqx.tree_at(lambda layer: layer.weight, lin, jnp.ones((4, 5)))
    with pytest.raises(ShapeError) as info:
        stale(jnp.ones(5))
    error = info.value
    assert str(error) == (
        "Linear: field weight f32[4,5] does not match the layer's configuration "
        "in_features=3 (static field). The weight was probably replaced by model "
        "surgery; rebuild the layer with Linear(5, 4, ...) or update in_features "
        "with tree_at."
    )
    assert (error.owner, error.parameter, error.role, error.got) == (
        "Linear",
        "in_features",
        "static field",
        "3",
    )
    assert error.bindings["in_features"] == 5
    assert error.bound_by["in_features"].kind == "field"


def test_stale_size_inside_a_model_names_its_path(getkey):
    mlp = typedeqx.nn.MLP(3, 2, 4, 1, key=getkey())
    stale = typedeqx.tree_at(lambda m: m.layers[1].weight, mlp, jnp.ones((2, 5)))
    with pytest.raises(ShapeError) as info:
        stale(jnp.ones(3))
    assert str(info.value) == (
        "MLP.layers[1] (Linear): field weight f32[2,5] does not match the layer's "
        "configuration in_features=4 (static field). The weight was probably "
        "replaced by model surgery; rebuild the layer with Linear(5, 2, ...) or "
        "update in_features with tree_at."
    )
