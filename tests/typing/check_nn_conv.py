"""Convolution and pooling layers: constructors, fields and `__call__` are typed."""

from collections.abc import Callable

import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones((3, 8, 8))

conv = eqx.nn.Conv2d(3, 4, 3, stride=2, padding="SAME", groups=1, key=key)
assert_type_conv: eqx.nn.Conv = conv
y: Array = conv(x)
y = conv(np.ones((3, 8, 8), np.float32), key=key)
kernel: tuple[int, ...] = conv.kernel_size
padding: str | tuple[tuple[int, int], ...] = conv.padding
eqx.nn.Conv(2, 3, 4, (3, 3), padding=((1, 0), (0, 1)), padding_mode="REFLECT", key=key)
eqx.nn.Conv1d(3, 4, 3, dtype=jnp.bfloat16, key=key)
eqx.nn.Conv3d(3, 4, 3, dilation=(1, 2, 1), use_bias=False, key=key)
eqx.nn.Conv2d(3, 4, 3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.nn.Conv2d(3, 4, 3.5, key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
conv([1.0])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
conv.weight = x  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

tconv = eqx.nn.ConvTranspose2d(4, 3, 3, stride=2, output_padding=1, key=key)
y = tconv(y)
out_pad: tuple[int, ...] = tconv.output_padding
eqx.nn.ConvTranspose(1, 4, 3, 3, padding="SAME", padding_mode="CIRCULAR", key=key)
eqx.nn.ConvTranspose1d(4, 3, 3, 2, 1, key=key)
eqx.nn.ConvTranspose3d(4, 3, 3, key=key)
eqx.nn.ConvTranspose1d(4, 3, 3, output_padding="1", key=key)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

pool = eqx.nn.MaxPool2d(2, stride=2, padding=((0, 1), (1, 0)), use_ceil=True)
y = pool(x)
op: Callable[[Array, Array], Array] = pool.operation
eqx.nn.Pool(0, lax.add, 2, 3)
eqx.nn.AvgPool1d(2)(jnp.ones((3, 8)))
eqx.nn.AvgPool3d((2, 2, 2))
eqx.nn.MaxPool1d(2, padding="SAME")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.nn.MaxPool2d()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

adaptive = eqx.nn.AdaptiveAvgPool2d((4, 4))
y = adaptive(x)
target: tuple[int, ...] = adaptive.target_shape
eqx.nn.AdaptivePool(2, 2, jnp.max)
eqx.nn.AdaptiveMaxPool1d(3)
eqx.nn.AdaptiveMaxPool3d((1, 2, 3))
eqx.nn.AdaptiveMaxPool2d(2, 2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
base: eqx.nn.Pool = eqx.nn.AvgPool2d(2)
module: eqx.Module = adaptive
