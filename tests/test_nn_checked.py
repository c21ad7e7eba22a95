"""Shape contracts on the built-in layers: Linear, Identity, MLP, Sequential."""

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx
from helpers import ones
from typedeqx import ShapeError
from typedeqx.nn import MLP, Identity, Lambda, Linear, Sequential


def test_linear_checks_input(getkey):
    lin = Linear(3, 4, key=getkey())
    assert lin(ones(3)).shape == (4,)
    with pytest.raises(ShapeError) as info:
        lin(ones(5))
    assert str(info.value) == (
        'Linear.__call__: argument x is f32[5], expected Inexact[Array, "in_features"] '
        "with in_features=3 (bound by field weight f32[4,3])"
    )


def test_linear_without_bias(getkey):
    lin = Linear(3, 4, use_bias=False, key=getkey())
    assert lin.bias is None
    assert lin(ones(3)).shape == (4,)
    with pytest.raises(ShapeError):
        lin(ones(2))


@pytest.mark.parametrize(
    "n_in, n_out, x_shape, y_shape",
    [("scalar", 3, (), (3,)), (3, "scalar", (3,), ()), ("scalar", "scalar", (), ())],
)
def test_linear_scalar_features(getkey, n_in, n_out, x_shape, y_shape):
    lin = Linear(n_in, n_out, key=getkey())
    assert lin(ones(*x_shape)).shape == y_shape
    with pytest.raises(ShapeError):
        lin(ones(2, *x_shape))


def test_linear_init_range_and_dtype(getkey):
    lin = Linear(16, 8, key=getkey())
    bound = 1 / jnp.sqrt(16.0)
    assert jnp.all(jnp.abs(lin.weight) <= bound)
    assert jnp.all(jnp.abs(lin.bias) <= bound)
    with pytest.raises(ShapeError, match="expected a float or complex dtype, got i32"):
        lin(ones(16, dtype=jnp.int32))


def test_linear_fields_checked_when_changed_outside_init(getkey):
    lin = Linear(3, 4, key=getkey())
    bad = typedeqx.tree_at(lambda m: m.weight, lin, ones(4, 2))
    # fields bind in declaration order: weight first, then the static size disagrees
    with pytest.raises(
        ShapeError,
        match=r"Linear: field weight f32\[4,2\] does not match the layer's configuration in_features=3 \(static field\)",
    ):
        bad(ones(3))
    bad = typedeqx.tree_at(lambda m: m.bias, lin, ones(5))
    with pytest.raises(ShapeError, match=r"field bias is f32\[5\]"):
        bad(ones(3))


def test_identity_accepts_any_shape():
    ident = Identity(3, key=None)
    for shape in [(), (2,), (2, 3, 4)]:
        assert ident(ones(*shape)).shape == shape


def test_mlp_error_inside_a_layer_has_its_path(getkey):
    mlp = MLP(3, 2, 4, depth=2, key=getkey())
    bad = typedeqx.tree_at(lambda m: m.layers[1], mlp, Linear(5, 4, key=getkey()))
    with pytest.raises(ShapeError) as info:
        bad(ones(3))
    e = info.value
    assert e.path == "MLP.layers[1]"
    assert str(e).startswith(
        "MLP.layers[1] (Linear.__call__): argument x is f32[4], expected "
        'Inexact[Array, "in_features"] with in_features=5 '
        "(bound by field weight f32[4,5])"
    )


def test_mlp_input_and_output(getkey):
    mlp = MLP(3, 2, 4, depth=2, key=getkey())
    assert mlp(ones(3)).shape == (2,)
    with pytest.raises(
        ShapeError,
        match=r"MLP.layers\[0\] \(Linear.__call__\): argument x .* in_features=3",
    ):
        mlp(ones(4))
    with pytest.raises(ShapeError, match=r"MLP.__call__: argument x is f32\[2,3\]"):
        mlp(ones(2, 3))


def test_mlp_options(getkey):
    mlp = MLP(
        "scalar",
        "scalar",
        5,
        depth=3,
        activation=jnp.tanh,
        use_bias=False,
        use_final_bias=False,
        key=getkey(),
    )
    assert mlp(ones()).shape == ()
    assert all(layer.bias is None for layer in mlp.layers)
    assert MLP(3, 2, 4, depth=0, key=getkey())(ones(3)).shape == (2,)


def test_mlp_under_jit_and_vmap(getkey):
    mlp = MLP(3, 2, 4, depth=2, key=getkey())
    assert typedeqx.filter_jit(jax.vmap(mlp))(ones(7, 3)).shape == (7, 2)
    with pytest.raises(ShapeError, match="argument x is f32\\[5\\]"):
        typedeqx.filter_jit(jax.vmap(mlp))(ones(7, 5))


def test_sequential_path(getkey):
    seq = Sequential(
        [Linear(3, 4, key=getkey()), Lambda(jax.nn.relu), Linear(5, 2, key=getkey())]
    )
    with pytest.raises(ShapeError) as info:
        seq(ones(3))
    assert info.value.path == "Sequential.layers[2]"


def test_batched_mlp_called_outside_vmap(getkey):
    stack = typedeqx.filter_vmap(lambda k: MLP(3, 2, 4, depth=1, key=k))(
        jr.split(getkey(), 4)
    )
    out = typedeqx.filter_vmap(lambda m: m(ones(3)))(stack)
    assert out.shape == (4, 2)
    with pytest.raises(ShapeError) as info:
        stack(ones(3))
    assert info.value.path == "MLP.layers[0]"
    assert "looks batched" in info.value.hint


def test_mlp_surgery_with_another_output_size(getkey):
    # The tricks page replaces the last layer with any Linear; each layer checks
    # its own sizes, so a new head of another width works.
    mlp = MLP(2, 2, 4, depth=2, key=getkey())
    wider = typedeqx.tree_at(lambda m: m.layers[-1], mlp, Linear(4, 5, key=getkey()))
    assert wider(ones(2)).shape == (5,)
    wrong = typedeqx.tree_at(lambda m: m.layers[-1], mlp, Linear(3, 5, key=getkey()))
    with pytest.raises(ShapeError, match=r"MLP.layers\[2\] .* in_features=3"):
        wrong(ones(2))


def test_scan_over_layers(getkey):
    # the "scan-over-layers" trick: one MLP with stacked parameters, scanned over
    @typedeqx.checked
    class TenMLPs(typedeqx.Module):
        mlps: MLP

        def __call__(self, x: jax.Array) -> jax.Array:
            dynamic, static = typedeqx.partition(self.mlps, typedeqx.is_array)

            def f(carry, layer):
                return typedeqx.combine(layer, static)(carry), None

            return jax.lax.scan(f, x, dynamic)[0]

    keys = jr.split(getkey(), 10)
    model = TenMLPs(typedeqx.filter_vmap(lambda k: MLP(3, 3, 3, 1, key=k))(keys))
    assert model(ones(3)).shape == (3,)
    with pytest.raises(ShapeError, match="in_features=3"):
        model(ones(4))
