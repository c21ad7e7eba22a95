"""Layers side by side: typedeqx vs Equinox vs the same computation in `jax.lax`.

1. For each entry of `LAYERS`, the batched forward pass (`jax.vmap` over a batch of
   32) under `filter_jit`, steady state (target: typedeqx within 5% of Equinox).
2. Trace time of a 12-block conv network (`Conv2d` + `relu`), checks on vs off
   (target: on <= 1.2x off).

To add a layer, append a `Entry(name, make_typedeqx, make_equinox, make_lax)`: each
`make_*` takes a PRNG key and returns `(fn, x)`, a single-example function and a
batch input of 32 examples.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
from _timing import interleaved, report

import typedeqx

Maker = Callable[[Any], tuple[Callable[[Any], Any], Any]]
BATCH = 32


class Entry(NamedTuple):
    name: str
    make_typedeqx: Maker
    make_equinox: Maker
    make_lax: Maker


def _conv2d(lib: Any) -> Maker:
    def make(key: Any) -> tuple[Callable[[Any], Any], Any]:
        layer = lib.nn.Conv2d(16, 32, 3, padding=1, key=key)
        return layer, jnp.ones((BATCH, 16, 32, 32))

    return make


def _lax_conv2d(key: Any) -> tuple[Callable[[Any], Any], Any]:
    layer = equinox.nn.Conv2d(16, 32, 3, padding=1, key=key)
    w, b = layer.weight, layer.bias

    def f(x: Any) -> Any:
        y = jax.lax.conv_general_dilated(x[None], w, (1, 1), ((1, 1), (1, 1)))
        return y[0] + b

    return f, jnp.ones((BATCH, 16, 32, 32))


def _conv_transpose2d(lib: Any) -> Maker:
    def make(key: Any) -> tuple[Callable[[Any], Any], Any]:
        layer = lib.nn.ConvTranspose2d(16, 8, 3, stride=2, padding="SAME", key=key)
        return layer, jnp.ones((BATCH, 16, 16, 16))

    return make


def _lax_conv_transpose2d(key: Any) -> tuple[Callable[[Any], Any], Any]:
    layer = equinox.nn.ConvTranspose2d(16, 8, 3, stride=2, padding="SAME", key=key)
    w, b = layer.weight, layer.bias

    def f(x: Any) -> Any:
        pads = ((1, 2), (1, 2))  # d(k-1) - p, with SAME's (1, 0) at stride 2
        y = jax.lax.conv_general_dilated(x[None], w, (1, 1), pads, lhs_dilation=(2, 2))
        return y[0] + b

    return f, jnp.ones((BATCH, 16, 16, 16))


def _pool(lib: Any, name: str, *args: Any) -> Maker:
    def make(key: Any) -> tuple[Callable[[Any], Any], Any]:
        return getattr(lib.nn, name)(*args), jnp.ones((BATCH, 16, 32, 32))

    return make


def _lax_pool(init: float, op: Any, scale: float) -> Maker:
    def make(key: Any) -> tuple[Callable[[Any], Any], Any]:
        def f(x: Any) -> Any:
            # Channels last: the layout XLA's CPU reduce_window is fastest in.
            y = jnp.moveaxis(x, 0, -1)
            y = jax.lax.reduce_window(y, init, op, (2, 2, 1), (2, 2, 1), "VALID")
            return jnp.moveaxis(y, -1, 0) * scale

        return f, jnp.ones((BATCH, 16, 32, 32))

    return make


def _lax_adaptive(key: Any) -> tuple[Callable[[Any], Any], Any]:
    def f(x: Any) -> Any:
        return jnp.mean(x.reshape(16, 4, 8, 4, 8), axis=(2, 4))

    return f, jnp.ones((BATCH, 16, 32, 32))


def _layer(lib: Any, build: Callable[[Any, Any], Any], x: Any) -> Maker:
    def make(key: Any) -> tuple[Callable[[Any], Any], Any]:
        return build(lib, key), x

    return make


def _lax_layer_norm(key: Any) -> tuple[Callable[[Any], Any], Any]:
    def f(x: Any) -> Any:
        mean = jnp.mean(x)
        var = jnp.maximum(0.0, jnp.var(x))
        return (x - mean) * jax.lax.rsqrt(var + 1e-5)

    return f, jnp.ones((BATCH, 256))


def _lax_rms_norm(key: Any) -> tuple[Callable[[Any], Any], Any]:
    def f(x: Any) -> Any:
        return x * jax.lax.rsqrt(jnp.mean(x**2) + 1e-5)

    return f, jnp.ones((BATCH, 256))


def _lax_group_norm(key: Any) -> tuple[Callable[[Any], Any], Any]:
    def f(x: Any) -> Any:
        y = x.reshape(4, 4, 16, 16)
        mean = jnp.mean(y, axis=(1, 2, 3), keepdims=True)
        var = jnp.maximum(0.0, jnp.var(y, axis=(1, 2, 3), keepdims=True))
        return ((y - mean) * jax.lax.rsqrt(var + 1e-5)).reshape(x.shape)

    return f, jnp.ones((BATCH, 16, 16, 16))


def _lax_embedding(key: Any) -> tuple[Callable[[Any], Any], Any]:
    table = jr.normal(key, (1000, 64))
    return (lambda i: table[i]), jnp.arange(BATCH, dtype=jnp.int32)


def _lax_prelu(key: Any) -> tuple[Callable[[Any], Any], Any]:
    alpha = jnp.full((1,), 0.25)
    return (lambda x: jnp.where(x >= 0, x, alpha * x)), jnp.ones((BATCH, 256))


_NORM_X = jnp.ones((BATCH, 256))
_GROUP_X = jnp.ones((BATCH, 16, 16, 16))
_IDS = jnp.arange(BATCH, dtype=jnp.int32)
_EXTRA = [
    Entry(
        "LayerNorm(256, no affine)",
        _layer(
            typedeqx,
            lambda lib, k: lib.nn.LayerNorm(256, use_weight=False, use_bias=False),
            _NORM_X,
        ),  # fmt: skip
        _layer(
            equinox,
            lambda lib, k: lib.nn.LayerNorm(256, use_weight=False, use_bias=False),
            _NORM_X,
        ),  # fmt: skip
        _lax_layer_norm,
    ),
    Entry(
        "RMSNorm(256, no affine)",
        _layer(
            typedeqx,
            lambda lib, k: lib.nn.RMSNorm(256, use_weight=False, use_bias=False),
            _NORM_X,
        ),  # fmt: skip
        _layer(
            equinox,
            lambda lib, k: lib.nn.RMSNorm(256, use_weight=False, use_bias=False),
            _NORM_X,
        ),  # fmt: skip
        _lax_rms_norm,
    ),
    Entry(
        "GroupNorm(4, 16, no affine)",
        _layer(
            typedeqx,
            lambda lib, k: lib.nn.GroupNorm(4, 16, channelwise_affine=False),
            _GROUP_X,
        ),  # fmt: skip
        _layer(
            equinox,
            lambda lib, k: lib.nn.GroupNorm(4, 16, channelwise_affine=False),
            _GROUP_X,
        ),  # fmt: skip
        _lax_group_norm,
    ),
    Entry(
        "Embedding(1000, 64)",
        _layer(typedeqx, lambda lib, k: lib.nn.Embedding(1000, 64, key=k), _IDS),
        _layer(equinox, lambda lib, k: lib.nn.Embedding(1000, 64, key=k), _IDS),
        _lax_embedding,
    ),
    Entry(
        "PReLU()",
        _layer(typedeqx, lambda lib, k: lib.nn.PReLU(), _NORM_X),
        _layer(equinox, lambda lib, k: lib.nn.PReLU(), _NORM_X),
        _lax_prelu,
    ),
]


LAYERS = [
    Entry(
        "Conv2d(16, 32, 3, padding=1)", _conv2d(typedeqx), _conv2d(equinox), _lax_conv2d
    ),  # fmt: skip
    Entry(
        "ConvTranspose2d(16, 8, 3, stride=2, SAME)",
        _conv_transpose2d(typedeqx),
        _conv_transpose2d(equinox),
        _lax_conv_transpose2d,
    ),
    Entry(
        "MaxPool2d(2, stride=2)",
        _pool(typedeqx, "MaxPool2d", 2, 2),
        _pool(equinox, "MaxPool2d", 2, 2),
        _lax_pool(-jnp.inf, jax.lax.max, 1.0),
    ),
    Entry(
        "AvgPool2d(2, stride=2)",
        _pool(typedeqx, "AvgPool2d", 2, 2),
        _pool(equinox, "AvgPool2d", 2, 2),
        _lax_pool(0.0, jax.lax.add, 0.25),
    ),
    Entry(
        "AdaptiveAvgPool2d(4)",
        _pool(typedeqx, "AdaptiveAvgPool2d", 4),
        _pool(equinox, "AdaptiveAvgPool2d", 4),
        _lax_adaptive,
    ),
    *_EXTRA,
]


def _batched(make: Maker, key: Any) -> Callable[[], Any]:
    fn, x = make(key)
    call = typedeqx.filter_jit(lambda f, v: jax.vmap(f)(v))
    call(fn, x).block_until_ready()
    return lambda: call(fn, x).block_until_ready()


def _forward(entry: Entry) -> str:
    key = jr.PRNGKey(0)
    times = interleaved(
        {
            "equinox, filter_jit(vmap)": _batched(entry.make_equinox, key),
            "typedeqx, filter_jit(vmap)": _batched(entry.make_typedeqx, key),
            "jax.lax, filter_jit(vmap)": _batched(entry.make_lax, key),
        },
        number=20,
        repeat=9,
    )
    return report(
        f"batched forward ({BATCH}), {entry.name}",
        times,
        "equinox, filter_jit(vmap)",
        "typedeqx within 5% of equinox",
    )


def _trace() -> str:
    keys = jr.split(jr.PRNGKey(1), 12)
    blocks = [typedeqx.nn.Conv2d(8, 8, 3, padding=1, key=k) for k in keys]
    x = jnp.ones((4, 8, 16, 16))

    def net(v: Any) -> Any:
        for block in blocks:
            v = jax.nn.relu(block(v))
        return v

    def trace(enabled: bool) -> Callable[[], Any]:
        def run() -> Any:
            with typedeqx.checks(enabled):
                # a fresh function each time, so that jit traces again
                return jax.jit(lambda v: jax.vmap(net)(v)).trace(x)

        return run

    times = interleaved(
        {"checks off": trace(False), "checks on": trace(True)}, number=3, repeat=7
    )
    return report(
        "trace, 12-block Conv2d network (vmapped)",
        times,
        "checks off",
        "checks on <= 1.2x checks off",
    )


def run() -> list[str]:
    return [_forward(entry) for entry in LAYERS] + [_trace()]
