"""nn.Pool and nn.AdaptivePool: Equinox parity, NumPy references, random
configurations, bad configurations. (Contracts: `test_contracts` in test_nn_conv.py.)"""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")


def assert_same(ours, theirs, x):
    names = [f.name for f in dataclasses.fields(theirs)]
    assert [f.name for f in dataclasses.fields(ours)] == names
    for name in names:
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a == b or (np.isnan(a) and np.isnan(b)) if name == "init" else a == b
    a, b = ours(x), theirs(x)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


POOL_CONFIGS = [
    ("MaxPool1d", (3,), {}),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, use_ceil=True)),
    ("AvgPool1d", (2,), dict(stride=2, padding=[(1, 2)], use_ceil=True)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=((1, 0), (0, 1)))),
    ("AvgPool2d", (3,), dict(stride=2, padding=(1, 0))),
    ("MaxPool3d", (2,), dict(stride=2, use_ceil=True)),
    ("AvgPool3d", (2,), {}),
]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.int32])
@pytest.mark.parametrize(("name", "args", "kwargs"), POOL_CONFIGS)
def test_pools_like_equinox(getkey, name, args, kwargs, dtype):
    dims = int(name[-2])
    x = (jr.normal(getkey(), (2,) + (7,) * dims) * 10).astype(dtype)
    ours = getattr(eqx.nn, name)(*args, **kwargs)
    theirs = getattr(eqx_ref.nn, name)(*args, **kwargs)
    assert_same(ours, theirs, x)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.int32])
@pytest.mark.parametrize(
    ("name", "target", "size"),
    [
        ("AdaptiveMaxPool1d", 3, 8),
        ("AdaptiveAvgPool1d", 4, 8),
        ("AdaptiveAvgPool2d", (3, 2), 7),  # fmt: skip
        ("AdaptiveMaxPool2d", 5, 5),
        ("AdaptiveAvgPool3d", (2, 3, 1), 4),
        ("AdaptiveMaxPool3d", 2, 3),
    ],  # fmt: skip
)
def test_adaptive_pools_like_equinox(getkey, name, target, size, dtype):
    dims = int(name[-2])
    x = (jr.normal(getkey(), (2,) + (size,) * dims) * 10).astype(dtype)
    assert_same(getattr(eqx.nn, name)(target), getattr(eqx_ref.nn, name)(target), x)


def _pool_loops(x, k, s, pads, ceil, init, op):
    # one spatial axis at a time would be wrong for max with padding only if init
    # leaked; here: direct windows over the padded 2d array.
    size = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:], pads)]
    outs = [
        -(-(p - kk) // ss) + 1 if ceil else (p - kk) // ss + 1
        for p, kk, ss in zip(size, k, s)
    ]
    extra = [max((o - 1) * ss + kk - p, 0) for o, ss, kk, p in zip(outs, s, k, size)]
    widths = [(0, 0)] + [(lo, hi + e) for (lo, hi), e in zip(pads, extra)]
    xp = np.pad(x, widths, constant_values=init)
    y = np.empty((x.shape[0], *outs))
    for c, i, j in itertools.product(range(x.shape[0]), range(outs[0]), range(outs[1])):
        window = xp[c, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
        y[c, i, j] = op(window)
    return y


@pytest.mark.parametrize(
    ("k", "s", "pads", "ceil"),
    [((2, 2), (1, 1), ((0, 0), (0, 0)), False), ((3, 2), (2, 3), ((1, 1), (0, 2)), False),
     ((3, 3), (2, 2), ((1, 0), (1, 1)), True), ((3, 3), (2, 2), ((0, 1), (1, 0)), True)],
)  # fmt: skip
def test_pools_against_loops(getkey, k, s, pads, ceil):
    x = np.asarray(jr.normal(getkey(), (2, 8, 9)), np.float64)
    fx = jnp.asarray(x, jnp.float32)
    got = eqx.nn.MaxPool2d(k, s, pads, ceil)(fx)
    assert np.allclose(got, _pool_loops(x, k, s, pads, ceil, -np.inf, np.max))
    got = eqx.nn.AvgPool2d(k, s, pads, ceil)(fx)
    mean = _pool_loops(x, k, s, pads, ceil, 0.0, np.sum) / np.prod(k)
    assert np.allclose(got, mean, atol=1e-6)


def _adaptive_loops(x, target, op):
    # Chunk boundaries as documented: the first n % t chunks are one longer.
    for axis, t in enumerate(target, start=1):
        n = x.shape[axis]
        q, r = divmod(n, t)
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (t - r))
        chunks = [
            op(np.take(x, range(a, b), axis=axis), axis=axis, keepdims=True)
            for a, b in zip(bounds[:-1], bounds[1:])
        ]
        x = np.concatenate(chunks, axis=axis)
    return x


@pytest.mark.parametrize(
    ("target", "shape"), [((3, 2), (2, 7, 5)), ((4, 4), (1, 4, 9))]
)
def test_adaptive_pools_against_loops(getkey, target, shape):
    x = np.asarray(jr.normal(getkey(), shape), np.float64)
    fx = jnp.asarray(x, jnp.float32)
    got = eqx.nn.AdaptiveMaxPool2d(target)(fx)
    assert np.allclose(got, _adaptive_loops(x, target, np.max))
    got = eqx.nn.AdaptiveAvgPool2d(target)(fx)
    assert np.allclose(got, _adaptive_loops(x, target, np.mean), atol=1e-6)


def test_under_transforms_and_inference_mode():
    pool = eqx.nn.inference_mode(eqx.nn.MaxPool2d(2, 2))
    y = eqx.filter_jit(jax.vmap(pool))(jnp.ones((4, 3, 6, 6)))
    assert y.shape == (4, 3, 3, 3)
    g = jax.grad(lambda v: jnp.sum(eqx.nn.AvgPool1d(2)(v)))(jnp.ones((1, 4)))
    assert np.allclose(g, [[0.5, 1.0, 1.0, 0.5]])


@given(
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    lo=st.integers(0, 4),
    hi=st.integers(0, 4),
    n=st.integers(1, 8),
    ceil=st.booleans(),
)
def test_random_pool(k, s, lo, hi, n, ceil):
    if max(lo, hi) > k:
        with pytest.raises(ValueError, match="padding"):
            eqx.nn.MaxPool1d(k, s, [(lo, hi)], ceil)
        return
    pool = eqx.nn.MaxPool1d(k, s, [(lo, hi)], ceil)
    x = jnp.ones((2, n))
    padded = n + lo + hi
    if ceil and (padded - k) % s:
        hi += s
        padded += s
    if hi > k:
        with pytest.raises(ValueError, match="use_ceil=True"):
            pool(x)
    elif padded < k:
        with pytest.raises(ValueError, match="too small"):
            pool(x)
    else:
        assert pool(x).shape == (2, (padded - k) // s + 1)


@given(t=st.tuples(st.integers(1, 5), st.integers(1, 5)), n=st.tuples(st.integers(1, 7), st.integers(1, 7)))  # fmt: skip
def test_random_adaptive_pool(t, n):
    pool = eqx.nn.AdaptiveAvgPool2d(t)
    x = jnp.ones((3, *n))
    if n[0] < t[0] or n[1] < t[1]:
        # Equinox divides by zero here: the contract error is a ZeroDivisionError too.
        with pytest.raises(ZeroDivisionError, match="shorter than target_shape"):
            pool(x)
    else:
        assert pool(x).shape == (3, *t)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: eqx.nn.MaxPool2d((2, 2, 2)),
            r"MaxPool2d\(kernel_size=\.\.\.\) must be an int or a sequence of 2 ints",
        ),  # fmt: skip
        (lambda: eqx.nn.MaxPool1d(0), r"kernel_size=.*each >= 1; got 0"),
        (lambda: eqx.nn.AvgPool1d(2, stride=-1), r"stride=.*got -1"),
        (
            lambda: eqx.nn.MaxPool1d(2, padding=3),
            r"padding=\.\.\.\) must be between 0 and the kernel size .*padding \(3, 3\) for kernel size 2",
        ),  # fmt: skip
        (
            lambda: eqx.nn.MaxPool1d(2, padding="SAME"),
            r"padding=\.\.\.\) must be an int",
        ),  # fmt: skip
        (
            lambda: eqx.nn.AdaptiveMaxPool2d((2, 2, 2)),
            r"target_shape=\.\.\.\) must be",
        ),  # fmt: skip
        (lambda: eqx.nn.AdaptiveMaxPool1d(0), r"target_shape=.*got 0"),
    ],
)
def test_bad_configuration(make, message):
    with pytest.raises(ValueError, match=message):
        make()
