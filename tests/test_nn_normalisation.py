"""nn.LayerNorm, nn.GroupNorm, nn.RMSNorm: Equinox parity, reference numerics,
configuration errors, random shapes."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx as eqx
from parity import assert_same_fields, assert_same_output

eqx_ref = pytest.importorskip("equinox")

WHOLE_FIELDS = ("shape", "eps", "use_weight", "use_bias", "weight", "bias")
GROUP_FIELDS = ("groups", "channels", "eps", "channelwise_affine", "weight", "bias")

WHOLE_CONFIGS = [
    ((5,), {}),
    (4, {"eps": 1e-3}),
    ((3, 4), {"use_weight": False}),
    ((2, 3), {"use_bias": False}),
    ((2, 2, 2), {"use_weight": False, "use_bias": False}),
    ((6,), {"dtype": jnp.bfloat16}),
]


def _input(key, shape, dtype=jnp.float32):
    return (2 * jr.normal(key, shape) + 0.5).astype(dtype)


def _trained(layer, key):
    # Ones and zeros would hide a swapped weight and bias.
    return jax.tree.map(
        lambda a: a + jr.normal(key, a.shape, a.dtype) if eqx.is_array(a) else a, layer
    )


@pytest.mark.parametrize("name", ["LayerNorm", "RMSNorm"])
@pytest.mark.parametrize(("shape", "kwargs"), WHOLE_CONFIGS)
@pytest.mark.parametrize("xdtype", [jnp.float32, jnp.bfloat16])
def test_whole_input_norms_match_equinox(getkey, name, shape, kwargs, xdtype):
    ours = getattr(eqx.nn, name)(shape, **kwargs)
    theirs = getattr(eqx_ref.nn, name)(shape, **kwargs)
    assert_same_fields(ours, theirs, *WHOLE_FIELDS)
    x = _input(getkey(), ours.shape, xdtype)
    assert_same_output(ours(x), theirs(x))
    key = getkey()
    assert_same_output(_trained(ours, key)(x), _trained(theirs, key)(x))


GROUP_CONFIGS = [
    (1, 4, {}, (4,)),
    (2, 4, {"eps": 1e-2}, (4, 3)),
    (3, 6, {}, (6, 2, 5)),
    (2, None, {"channelwise_affine": False}, (8, 3)),
    (4, 8, {"dtype": jnp.bfloat16}, (8, 2)),
]


@pytest.mark.parametrize(("groups", "channels", "kwargs", "xshape"), GROUP_CONFIGS)
@pytest.mark.parametrize("xdtype", [jnp.float32, jnp.bfloat16])
def test_group_norm_matches_equinox(getkey, groups, channels, kwargs, xshape, xdtype):
    ours = eqx.nn.GroupNorm(groups, channels, **kwargs)
    theirs = eqx_ref.nn.GroupNorm(groups, channels, **kwargs)
    assert_same_fields(ours, theirs, *GROUP_FIELDS)
    x = _input(getkey(), xshape, xdtype)
    assert_same_output(ours(x), theirs(x))
    key = getkey()
    assert_same_output(_trained(ours, key)(x), _trained(theirs, key)(x))


def test_float64_under_x64_matches_equinox(getkey):
    with jax.enable_x64(True):
        x = _input(getkey(), (4, 3), jnp.float64)
        for name in ("LayerNorm", "RMSNorm"):
            ours = getattr(eqx.nn, name)((4, 3))
            theirs = getattr(eqx_ref.nn, name)((4, 3))
            assert ours.weight.dtype == jnp.float64
            assert_same_fields(ours, theirs, *WHOLE_FIELDS)
            assert_same_output(ours(x), theirs(x))
        ours, theirs = eqx.nn.GroupNorm(2, 4), eqx_ref.nn.GroupNorm(2, 4)
        assert_same_fields(ours, theirs, *GROUP_FIELDS)
        assert_same_output(ours(x), theirs(x))


def _np_affine(out, layer):
    if layer.weight is not None:
        out = out * np.asarray(layer.weight, np.float64)
    if layer.bias is not None:
        out = out + np.asarray(layer.bias, np.float64)
    return out


@pytest.mark.parametrize(("shape", "kwargs"), WHOLE_CONFIGS[:5])
def test_layer_norm_against_formula(getkey, shape, kwargs):
    layer = _trained(eqx.nn.LayerNorm(shape, **kwargs), getkey())
    x = _input(getkey(), layer.shape)
    xs = np.asarray(x, np.float64)
    expected = (xs - xs.mean()) / np.sqrt(xs.var() + layer.eps)
    assert np.allclose(layer(x), _np_affine(expected, layer), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("shape", "kwargs"), WHOLE_CONFIGS[:5])
def test_rms_norm_against_formula(getkey, shape, kwargs):
    layer = _trained(eqx.nn.RMSNorm(shape, **kwargs), getkey())
    x = _input(getkey(), layer.shape)
    xs = np.asarray(x, np.float64)
    expected = xs / np.sqrt((xs**2).mean() + layer.eps)
    assert np.allclose(layer(x), _np_affine(expected, layer), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("groups", "channels", "kwargs", "xshape"), GROUP_CONFIGS[:4])
def test_group_norm_against_formula(getkey, groups, channels, kwargs, xshape):
    layer = _trained(eqx.nn.GroupNorm(groups, channels, **kwargs), getkey())
    x = _input(getkey(), xshape)
    xs = np.asarray(x, np.float64)
    expected = np.empty_like(xs)
    size = xshape[0] // groups
    for g in range(groups):
        part = xs[g * size : (g + 1) * size]
        expected[g * size : (g + 1) * size] = (part - part.mean()) / np.sqrt(
            part.var() + layer.eps
        )
    if layer.weight is not None:
        per_channel = (-1,) + (1,) * (len(xshape) - 1)
        expected = expected * np.asarray(layer.weight).reshape(per_channel)
        expected = expected + np.asarray(layer.bias).reshape(per_channel)
    assert np.allclose(layer(x), expected, rtol=1e-4, atol=1e-5)


def test_output_keeps_input_dtype_and_int_shape_is_a_vector():
    layer = eqx.nn.LayerNorm(3)
    assert layer.shape == (3,)
    assert layer(jnp.ones(3, jnp.bfloat16)).dtype == jnp.bfloat16
    assert layer(np.ones(3, np.float32)).dtype == jnp.float32


def test_elementwise_affine_is_deprecated_but_works():
    with pytest.warns(UserWarning, match="elementwise_affine"):
        layer = eqx.nn.LayerNorm(3, elementwise_affine=False)
    assert layer.weight is None and layer.bias is None
    assert not layer.use_weight and not layer.use_bias
    with pytest.warns(UserWarning, match="elementwise_affine"):
        theirs = eqx_ref.nn.LayerNorm(3, elementwise_affine=False)
    assert_same_fields(layer, theirs, *WHOLE_FIELDS)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: eqx.nn.GroupNorm(3, 4), r"groups=\.\.\.\) must divide channels"),
        (lambda: eqx.nn.GroupNorm(0, 4), r"groups=\.\.\.\) must be a positive int"),
        (lambda: eqx.nn.GroupNorm(-2, 4), r"groups=\.\.\.\) must be a positive int"),
        (lambda: eqx.nn.GroupNorm(2, -4), r"channels=\.\.\.\) must be a non-negative"),
        (lambda: eqx.nn.GroupNorm(2), r"channels=\.\.\.\) is needed"),
        (lambda: eqx.nn.LayerNorm((3, -1)), r"LayerNorm\(shape=\.\.\.\) must be"),
        (lambda: eqx.nn.RMSNorm(2.5), r"RMSNorm\(shape=\.\.\.\) must be"),
        (lambda: eqx.nn.LayerNorm(3, eps=-1.0), r"eps=\.\.\.\) must be non-negative"),
    ],
)
def test_bad_configuration(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_group_norm_without_channels_checks_divisibility_at_call():
    layer = eqx.nn.GroupNorm(4, channelwise_affine=False)
    assert layer(jnp.ones((8, 2))).shape == (8, 2)
    with pytest.raises(eqx.ShapeError) as info:
        layer(jnp.ones((6, 2)))
    assert str(info.value) == (
        'GroupNorm.__call__: argument x is f32[6,2], expected Float[Array, "channels '
        '*spatial"] with groups=4 (bound by static field groups) (axis 0 has size 6, '
        "not divisible by groups=4)"
    )


def test_layer_norm_without_parameters_still_checks_shape():
    layer = eqx.nn.LayerNorm((2, 3), use_weight=False, use_bias=False)
    with pytest.raises(eqx.ShapeError) as info:
        layer(jnp.ones((3, 2)))
    assert str(info.value) == (
        'LayerNorm.__call__: argument x is f32[3,2], expected Float[Array, "*shape"] '
        "with *shape=(2, 3) (bound by static field shape) (its axes for *shape are "
        "(3, 2))\n  hint: x.T would be f32[2,3], which fits."
    )


_sizes = st.lists(st.integers(1, 4), min_size=1, max_size=3)


@given(
    name=st.sampled_from(["LayerNorm", "RMSNorm"]),
    shape=_sizes,
    xshape=_sizes,
    params=st.booleans(),
)
def test_random_shapes_whole_input(name, shape, xshape, params):
    layer = getattr(eqx.nn, name)(shape, use_weight=params, use_bias=params)
    x = jnp.ones(xshape)
    if tuple(xshape) == tuple(shape):
        assert layer(x).shape == tuple(shape)
    else:
        with pytest.raises(eqx.ShapeError):
            layer(x)


@given(
    groups=st.integers(1, 3),
    per_group=st.integers(1, 3),
    affine=st.booleans(),
    xshape=st.lists(st.integers(1, 6), min_size=0, max_size=3),
)
def test_random_shapes_group_norm(groups, per_group, affine, xshape):
    channels = groups * per_group
    layer = eqx.nn.GroupNorm(
        groups, channels if affine else None, channelwise_affine=affine
    )
    x = jnp.ones(xshape)
    fits = len(xshape) >= 1 and (
        xshape[0] == channels if affine else xshape[0] % groups == 0
    )
    if fits:
        assert layer(x).shape == tuple(xshape)
    else:
        with pytest.raises(eqx.ShapeError):
            layer(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda eqx_lib, key: eqx_lib.nn.LayerNorm((3, 4)),
        lambda eqx_lib, key: eqx_lib.nn.RMSNorm((3, 4)),
        lambda eqx_lib, key: eqx_lib.nn.GroupNorm(1, 3),
    ],
    ids=["LayerNorm", "RMSNorm", "GroupNorm"],
)
def test_state_is_passed_through_as_in_equinox(make, getkey):
    # Equinox's normalisation layers take an optional `state` and return it, so
    # they can stand in for BatchNorm inside a stateful model.
    eqx_ref = pytest.importorskip("equinox")
    ours, theirs = make(eqx, getkey()), make(eqx_ref, getkey())
    x = jr.normal(getkey(), (3, 4))
    state = {"anything": jnp.ones(2)}
    out, returned = ours(x, state)
    ref_out, ref_returned = theirs(x, state)
    assert returned is state and ref_returned is state
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(ours(x), theirs(x))
