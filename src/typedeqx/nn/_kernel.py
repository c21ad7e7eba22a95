"""Shared by `Conv` and `ConvTranspose`: their initialisation, and the contracts
on their input that an annotation cannot state."""

import math
from typing import Any

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, PRNGKeyArray

from ._misc import default_floating_dtype
from ._spatial import positive_int


def init_uniform(
    key: PRNGKeyArray, shape: tuple[int, ...], dtype: Any, limit: float
) -> Array:
    """Uniform in [-limit, limit]; for a complex dtype, real and imaginary parts are
    drawn independently (from two keys split from `key`), as Equinox does."""
    if jnp.issubdtype(dtype, jnp.complexfloating):
        real_dtype = jnp.zeros((), dtype).real.dtype
        rkey, ikey = jr.split(key)
        real = jr.uniform(rkey, shape, real_dtype, minval=-limit, maxval=limit)
        imag = jr.uniform(ikey, shape, real_dtype, minval=-limit, maxval=limit)
        return real.astype(dtype) + 1j * imag.astype(dtype)
    return jr.uniform(key, shape, dtype, minval=-limit, maxval=limit)


def init_kernel(
    key: PRNGKeyArray,
    out_channels: int,
    in_per_group: int,
    kernel_size: tuple[int, ...],
    use_bias: bool,
    dtype: Any,
) -> tuple[Array, Array | None]:
    """A weight `(out_channels, in_per_group, *kernel_size)` and a bias
    `(out_channels, 1, ..., 1)` (or `None`), uniform in ±1/sqrt(fan_in)."""
    dtype = default_floating_dtype() if dtype is None else dtype
    wkey, bkey = jr.split(key)
    limit = 1 / math.sqrt(in_per_group * math.prod(kernel_size))
    weight = init_uniform(
        wkey, (out_channels, in_per_group, *kernel_size), dtype, limit
    )
    bias_shape = (out_channels,) + (1,) * len(kernel_size)
    bias = init_uniform(bkey, bias_shape, dtype, limit) if use_bias else None
    return weight, bias


def check_groups(layer: str, in_channels: int, out_channels: int, groups: Any) -> int:
    """`groups`, checked to divide both channel counts."""
    count = positive_int(layer, "groups", groups)
    for name, channels in (
        ("in_channels", in_channels),
        ("out_channels", out_channels),
    ):
        if channels % count:
            raise ValueError(
                f"{layer}(groups=...) must divide {name}; got groups={count} and "
                f"{name}={channels}. Each group maps in_channels/groups inputs to "
                f"out_channels/groups outputs."
            )
    return count
