"""nn.Conv and nn.ConvTranspose: Equinox parity (weights and outputs), references
written with NumPy loops and `lax`, contracts on every spatial layer, random
configurations, and bad configurations."""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx
import typedeqx as eqx
from typedeqx import ShapeError

eqx_ref = pytest.importorskip("equinox")


def assert_same_layer(ours, theirs):
    """Field by field: same names, arrays bit-identical with the same dtype."""
    names = [f.name for f in dataclasses.fields(theirs)]
    assert [f.name for f in dataclasses.fields(ours)] == names
    for name in names:
        a, b = getattr(ours, name), getattr(theirs, name)
        if isinstance(b, jax.Array):
            assert a.dtype == b.dtype and np.array_equal(a, b), name
        else:
            assert a == b, name


def assert_same_output(ours, theirs, x):
    a, b = ours(x), theirs(x)
    assert a.dtype == b.dtype and a.shape == b.shape
    # bit for bit, whatever the dtype (bfloat16 and complex included)
    assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


CONV_CONFIGS = [
    ("Conv1d", (3, 4, 3), {}),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding="SAME", groups=2)),
    ("Conv1d", (3, 4, 4), dict(padding="same_lower", dilation=2)),
    ("Conv1d", (2, 5, 3), dict(padding=[(2, 1)], padding_mode="REFLECT")),
    ("Conv1d", (2, 5, 3), dict(padding=2, padding_mode="replicate")),
    ("Conv1d", (2, 5, 3), dict(padding="SAME", padding_mode="circular", stride=2)),
    ("Conv1d", (2, 3, 5), dict(padding="VALID", use_bias=False)),
    ("Conv2d", (3, 4, (3, 2)), dict(stride=(2, 1), padding=((1, 0), (2, 2)))),
    ("Conv2d", (6, 4, 3), dict(groups=2, dilation=(1, 2), padding=(1, 2))),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="CIRCULAR")),
    ("Conv3d", (2, 2, 2), dict(stride=2, padding="SAME")),
    ("Conv", (1, 2, 3, 3), {}),
]
TRANSPOSE_CONFIGS = [
    ("ConvTranspose1d", (3, 4, 3), {}),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2)),
    ("ConvTranspose1d", (3, 4, 4), dict(stride=3, padding="SAME", output_padding=2)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, padding="SAME_LOWER", dilation=2)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, padding="SAME", padding_mode="circular")),
    ("ConvTranspose1d", (3, 4, 3), dict(padding=[(2, 1)], use_bias=False)),
    ("ConvTranspose2d", (2, 3, (3, 2)), dict(stride=(2, 1), padding=((1, 0), (0, 1)))),
    ("ConvTranspose2d", (2, 3, 3), dict(padding="SAME_LOWER", padding_mode="CIRCULAR")),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2, padding="VALID")),
    ("ConvTranspose", (1, 2, 3, 3), dict(dilation=3)),
]  # fmt: skip
# Every configuration in float32; a few in bfloat16 and float64 (each compiles anew).
PARITY = [(*c, jnp.float32) for c in CONV_CONFIGS + TRANSPOSE_CONFIGS] + [
    (*CONV_CONFIGS[1], jnp.bfloat16),
    (*CONV_CONFIGS[7], jnp.float64),
    (*TRANSPOSE_CONFIGS[2], jnp.bfloat16),
    (*TRANSPOSE_CONFIGS[6], jnp.float64),
]


def _input(key, cls_name, args, dtype, size=9):
    layer_dims = int(cls_name[-2]) if cls_name[-1] == "d" else args[0]
    channels = args[0] if cls_name[-1] == "d" else args[1]
    return jr.normal(key, (channels,) + (size,) * layer_dims, dtype)


def _x64(dtype):
    return jax.enable_x64(dtype == jnp.float64)


@pytest.mark.parametrize(("name", "args", "kwargs", "dtype"), PARITY)
def test_same_weights_and_outputs_as_equinox(getkey, name, args, kwargs, dtype):
    key, xkey = getkey(), getkey()
    with _x64(dtype):
        ours = getattr(eqx.nn, name)(*args, **kwargs, dtype=dtype, key=key)
        theirs = getattr(eqx_ref.nn, name)(*args, **kwargs, dtype=dtype, key=key)
        assert_same_layer(ours, theirs)
        x = _input(xkey, name, args, dtype)
        assert_same_output(ours, theirs, x)


def test_default_dtype_and_complex_like_equinox(getkey):
    key = getkey()
    with jax.enable_x64(True):
        assert eqx.nn.Conv1d(2, 3, 3, key=key).weight.dtype == jnp.float64
    ours = eqx.nn.Conv1d(2, 3, 3, dtype=jnp.complex64, key=key)
    theirs = eqx_ref.nn.Conv1d(2, 3, 3, dtype=jnp.complex64, key=key)
    assert_same_layer(ours, theirs)
    assert_same_output(ours, theirs, jnp.ones((2, 6), jnp.complex64))
    assert_same_output(ours, theirs, np.ones((2, 6), np.complex64))


# ---- references independent of Equinox --------------------------------------------

_NP_MODES = {"ZEROS": "constant", "REFLECT": "reflect", "REPLICATE": "edge", "CIRCULAR": "wrap"}  # fmt: skip


def _conv1d_loops(x, w, b, stride, pads, dilation, groups, mode):
    x = np.pad(x, ((0, 0), pads), _NP_MODES[mode])
    out_c, in_g, k = w.shape
    span = dilation * (k - 1) + 1
    length = (x.shape[1] - span) // stride + 1
    out_g = out_c // groups
    y = np.zeros((out_c, length))
    for o in range(out_c):
        g = o // out_g
        for t in range(length):
            for c in range(in_g):
                for j in range(k):
                    y[o, t] += w[o, c, j] * x[g * in_g + c, t * stride + j * dilation]
    return y if b is None else y + b


@pytest.mark.parametrize("mode", ["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"])
@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "groups"),
    [(1, (0, 0), 1, 1), (2, (2, 1), 1, 2), (3, (1, 3), 2, 1), (1, (0, 2), 3, 2)],
)
def test_conv1d_against_loops(getkey, mode, stride, padding, dilation, groups):
    layer = eqx.nn.Conv1d(
        4, 6, 3, stride, [padding], dilation, groups, padding_mode=mode, key=getkey()
    )
    x = np.asarray(jr.normal(getkey(), (4, 11)))
    w, b = np.asarray(layer.weight, np.float64), np.asarray(layer.bias, np.float64)
    expected = _conv1d_loops(x, w, b, stride, padding, dilation, groups, mode)
    assert np.allclose(layer(jnp.asarray(x)), expected, atol=1e-5)


def test_conv2d_against_lax_in_another_layout(getkey):
    layer = eqx.nn.Conv2d(4, 6, (3, 2), (2, 1), "SAME", (1, 2), groups=2, key=getkey())
    x = jr.normal(getkey(), (4, 10, 7))
    expected = jax.lax.conv_general_dilated(
        jnp.moveaxis(x, 0, -1)[None],
        jnp.transpose(layer.weight, (2, 3, 1, 0)),
        (2, 1),
        "SAME",
        rhs_dilation=(1, 2),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=2,
    )[0]
    expected = jnp.moveaxis(expected, -1, 0) + layer.bias
    assert layer(x).shape == (6, 5, 7)
    assert np.allclose(layer(x), expected, atol=1e-5)


def _transpose1d_loops(x, w, b, stride, pads, out_pad, dilation, groups):
    # The adjoint of a convolution with the kernel flipped: scatter every input
    # element through the kernel, then crop the equivalent Conv's padding.
    out_c, in_g, k = w.shape
    n = x.shape[1]
    full = np.zeros((out_c, (n - 1) * stride + dilation * (k - 1) + 1 + out_pad))
    out_g = out_c // groups
    for o in range(out_c):
        g = o // out_g
        for i in range(n):
            for c in range(in_g):
                for j in range(k):
                    full[o, i * stride + j * dilation] += (
                        x[g * in_g + c, i] * w[o, c, k - 1 - j]
                    )
    y = full[:, pads[0] : full.shape[1] - pads[1]]
    return y if b is None else y + b


@pytest.mark.parametrize(
    ("stride", "padding", "out_pad", "dilation", "groups"),
    [(1, (0, 0), 0, 1, 1), (2, (1, 1), 1, 1, 2), (3, (2, 0), 2, 2, 1), (2, (0, 3), 0, 1, 2)],
)  # fmt: skip
def test_conv_transpose1d_against_loops(getkey, stride, padding, out_pad, dilation, groups):  # fmt: skip
    layer = eqx.nn.ConvTranspose1d(
        4, 6, 3, stride, out_pad, [padding], dilation, groups, key=getkey()
    )
    x = np.asarray(jr.normal(getkey(), (4, 7)))
    w, b = np.asarray(layer.weight, np.float64), np.asarray(layer.bias, np.float64)
    expected = _transpose1d_loops(x, w, b, stride, padding, out_pad, dilation, groups)
    assert np.allclose(layer(jnp.asarray(x)), expected, atol=1e-5)


def test_conv_transpose_inverts_conv_shapes(getkey):
    for stride, out_pad, n in [(2, 0, 10), (2, 1, 9), (3, 1, 11)]:
        conv = eqx.nn.Conv1d(2, 3, 3, stride, "SAME", key=getkey())
        back = eqx.nn.ConvTranspose1d(3, 2, 3, stride, out_pad, "SAME", key=getkey())
        assert back(conv(jnp.ones((2, n)))).shape == (2, n)


def test_inference_mode_and_transforms(getkey):
    layer = eqx.nn.Conv2d(2, 3, 3, padding=1, key=getkey())
    same = eqx.nn.inference_mode(layer)
    x = jnp.ones((5, 2, 6, 6))
    y = typedeqx.filter_jit(jax.vmap(same))(x)
    assert y.shape == (5, 3, 6, 6)
    grads = typedeqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(x)))(layer)
    assert grads.weight.shape == layer.weight.shape


# ---- contracts, on every spatial layer ---------------------------------------------


def _layers(key):
    """(layer, good input, input with a wrong channel count or None, bad dtype)."""
    f32 = jnp.float32
    conv = [
        (eqx.nn.Conv1d(3, 4, 2, key=key), (3, 8)),
        (eqx.nn.Conv2d(3, 4, 2, key=key), (3, 8, 8)),
        (eqx.nn.Conv3d(3, 4, 2, key=key), (3, 5, 5, 5)),
        (eqx.nn.Conv(2, 3, 4, 2, key=key), (3, 8, 8)),
        (eqx.nn.ConvTranspose1d(3, 4, 2, key=key), (3, 8)),
        (eqx.nn.ConvTranspose2d(3, 4, 2, key=key), (3, 8, 8)),
        (eqx.nn.ConvTranspose3d(3, 4, 2, key=key), (3, 5, 5, 5)),
        (eqx.nn.ConvTranspose(2, 3, 4, 2, key=key), (3, 8, 8)),
    ]
    pools = [
        (eqx.nn.AvgPool1d(2), (3, 8)),
        (eqx.nn.AvgPool2d(2), (3, 8, 8)),
        (eqx.nn.AvgPool3d(2), (3, 5, 5, 5)),
        (eqx.nn.MaxPool1d(2), (3, 8)),
        (eqx.nn.MaxPool2d(2), (3, 8, 8)),
        (eqx.nn.MaxPool3d(2), (3, 5, 5, 5)),
        (eqx.nn.Pool(0, jax.lax.add, 2, 2), (3, 8, 8)),
        (eqx.nn.AdaptiveAvgPool1d(2), (3, 8)),
        (eqx.nn.AdaptiveAvgPool2d(2), (3, 8, 8)),
        (eqx.nn.AdaptiveAvgPool3d(2), (3, 5, 5, 5)),
        (eqx.nn.AdaptiveMaxPool1d(2), (3, 8)),
        (eqx.nn.AdaptiveMaxPool2d(2), (3, 8, 8)),
        (eqx.nn.AdaptiveMaxPool3d(2), (3, 5, 5, 5)),
        (eqx.nn.AdaptivePool(2, 2, jnp.max), (3, 8, 8)),
    ]
    return (
        [(layer, shape, jnp.int32) for layer, shape in conv]
        + [
            (
                layer,
                shape,
                jnp.bool_ if type(layer).__name__.startswith("AvgPool") else None,
            )
            for layer, shape in pools
        ]
        + [(eqx.nn.Conv1d(3, 4, 2, dtype=f32, key=key), (3, 8), jnp.float16)]
    )


LAYER_COUNT = 23


def _call(mode, layer, x):
    if mode == "eager":
        return layer(x)
    if mode == "jit":
        return typedeqx.filter_jit(lambda m, v: m(v))(layer, x)
    return typedeqx.filter_vmap(layer)(jnp.stack([x, x]))


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap"])
@pytest.mark.parametrize("index", range(LAYER_COUNT))
def test_contracts(getkey, mode, index):
    layers = _layers(getkey())
    assert len(layers) == LAYER_COUNT
    layer, shape, bad_dtype = layers[index]
    name = type(layer).__name__
    assert _call(mode, layer, jnp.ones(shape)).shape[-len(shape)] in (3, 4)
    # a batch without vmap: the wrong rank
    with pytest.raises(ShapeError, match=rf"{name}\.__call__: argument x") as info:
        _call(mode, layer, jnp.ones((2, *shape)))
    assert info.value.parameter == "x" and info.value.path == name
    assert "in_channels=3" in str(info.value) or "rank" in str(info.value)
    if hasattr(layer, "in_channels"):  # a wrong channel count
        with pytest.raises(ShapeError, match=rf"{name}\.__call__: argument x .*in_channels=3"):  # fmt: skip
            _call(mode, layer, jnp.ones((5, *shape[1:])))
    if bad_dtype is not None:
        with pytest.raises(ShapeError, match=rf"{name}\.__call__: argument x .*dtype"):
            _call(mode, layer, jnp.ones(shape, bad_dtype))


def test_rank_error_names_num_spatial_dims(getkey):
    layer = eqx.nn.Conv2d(2, 3, 3, key=getkey())
    with pytest.raises(ShapeError) as info:
        layer(jnp.ones((2, 2, 5, 5)))
    assert str(info.value) == (
        "Conv2d.__call__: argument x is f32[2,2,5,5], expected Inexact[Array, "
        '"in_channels *spatial"] with in_channels=2 (bound by static field '
        "in_channels) (got rank 4, expected rank 3: a channel axis and "
        "num_spatial_dims=2 spatial axes)\n  hint: x looks like a batch of 2 inputs "
        "of shape f32[2,5,5]. Map over it with jax.vmap: jax.vmap(layer)(x)."
    )
    with pytest.raises(ShapeError, match="got rank 2"):
        layer(jnp.ones((2, 5)))


# ---- random configurations -----------------------------------------------------------


def _conv_out(n, k, s, lo, hi, d):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


@given(
    dims=st.integers(1, 2),
    groups=st.integers(1, 2),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    n=st.integers(1, 9),
    pad=st.one_of(
        st.sampled_from(["SAME", "SAME_LOWER", "VALID"]),
        st.tuples(st.integers(0, 3), st.integers(0, 3)),
    ),  # fmt: skip
    mode=st.sampled_from(["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"]),
    channels=st.integers(1, 3),
)
def test_random_conv(dims, groups, k, s, d, n, pad, mode, channels):
    in_c = 2 * groups
    padding = pad if isinstance(pad, str) else [pad] * dims
    layer = eqx.nn.Conv(dims, in_c, 2 * groups, k, s, padding, d, groups, padding_mode=mode, key=jr.PRNGKey(0))  # fmt: skip
    span = d * (k - 1) + 1
    if pad == "VALID":
        lo = hi = 0
    elif isinstance(pad, str):
        total = max((-(-n // s) - 1) * s + span - n, 0)
        lo = total // 2 if pad == "SAME" else total - total // 2
        hi = total - lo
    else:
        lo, hi = pad
    x = jnp.ones((channels * groups,) + (n,) * dims)
    if channels * groups != in_c:
        with pytest.raises(ShapeError, match="in_channels"):
            layer(x)
    elif n + lo + hi < span:
        with pytest.raises(ValueError, match="too small for the window"):
            layer(x)
    else:
        out = _conv_out(n, k, s, lo, hi, d)
        assert layer(x).shape == (2 * groups,) + (out,) * dims


@given(
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    n=st.integers(1, 7),
    a=st.integers(0, 2),
    pad=st.one_of(
        st.sampled_from(["SAME", "SAME_LOWER", "VALID"]),
        st.tuples(st.integers(0, 4), st.integers(0, 4)),
    ),  # fmt: skip
)
def test_random_conv_transpose(k, s, d, n, a, pad):
    if a >= s:
        with pytest.raises(ValueError, match="output_padding"):
            eqx.nn.ConvTranspose1d(2, 3, k, s, a, pad, key=jr.PRNGKey(0))
        return
    padding = pad if isinstance(pad, str) else [pad]
    layer = eqx.nn.ConvTranspose1d(2, 3, k, s, a, padding, d, key=jr.PRNGKey(0))
    if pad in ("SAME", "SAME_LOWER"):
        out = n * s - a
    else:
        lo, hi = (0, 0) if pad == "VALID" else pad
        out = (n - 1) * s - lo - hi + d * (k - 1) + 1 + a
    x = jnp.ones((2, n))
    if out < 1:
        with pytest.raises(ValueError):
            layer(x)
    else:
        assert layer(x).shape == (3, out)


# ---- bad configurations ------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda k: eqx.nn.Conv2d(3, 4, 3, groups=2, key=k),
            r"groups=\.\.\.\) must divide in_channels; got groups=2",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv2d(4, 3, 3, groups=2, key=k),
            r"must divide out_channels",
        ),
        (
            lambda k: eqx.nn.ConvTranspose1d(3, 4, 3, groups=2, key=k),
            r"must divide in_channels",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv2d(3, 4, -1, key=k),
            r"kernel_size=\.\.\.\) must be an int or a sequence of 2 ints .* got -1",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv2d(-3, 4, 3, key=k),
            r"in_channels=\.\.\.\) must be an int >= 1; got -3",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv2d(3, 4, 3, stride=(1, 2, 1), key=k),
            r"stride=\.\.\.\) must be an int or a sequence of 2 ints",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv2d(3, 4, 3, stride=0, key=k),
            r"stride=.*each >= 1; got 0",
        ),
        (
            lambda k: eqx.nn.Conv1d(3, 4, 3, padding_mode="mirror", key=k),
            r"padding_mode=\.\.\.\) must be one of ZEROS, REFLECT, REPLICATE, CIRCULAR; got 'mirror'",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv1d(3, 4, 3, padding="full", key=k),
            r"padding=\.\.\.\) must be 'SAME'.*got 'full'",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv1d(3, 4, 3, padding=(1, 2), key=k),
            r"padding=\.\.\.\) must be",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.Conv1d(3, 4, 3, padding=-1, padding_mode="REFLECT", key=k),
            r"must be non-negative",
        ),  # fmt: skip
        (
            lambda k: eqx.nn.ConvTranspose1d(
                3, 4, 3, stride=2, output_padding=2, key=k
            ),
            r"output_padding=\.\.\.\) must be below stride",
        ),  # fmt: skip
    ],
)
def test_bad_configuration(getkey, make, message):
    with pytest.raises(ValueError, match=message):
        make(getkey())


def test_not_implemented_modes_like_equinox(getkey):
    with pytest.raises(NotImplementedError, match="REFLECT"):
        eqx.nn.ConvTranspose1d(2, 2, 3, padding_mode="REFLECT", key=getkey())
    with pytest.raises(NotImplementedError, match="SAME"):
        eqx.nn.ConvTranspose1d(2, 2, 3, padding_mode="CIRCULAR", key=getkey())


def test_kernel_larger_than_valid_input(getkey):
    layer = eqx.nn.Conv2d(2, 3, 5, padding="VALID", key=getkey())
    with pytest.raises(ValueError, match=r"input x f32\[2,4,9\] is too small .* axis 0: its padded size is 4 but the \(dilated\) kernel spans 5"):  # fmt: skip
        layer(jnp.ones((2, 4, 9)))
    with pytest.raises(ValueError, match="too small"):
        typedeqx.filter_jit(layer)(jnp.ones((2, 9, 4)))
