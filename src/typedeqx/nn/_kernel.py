"""Shared by `Conv` and `ConvTranspose`: their leading fields, the checks on
their configuration, and their initialisation."""

import math
from typing import Any

import jax.random as jr
from jax.typing import DTypeLike
from jaxtyping import Array, Inexact, PRNGKeyArray

from .._module import Module, field
from ._misc import default_floating_dtype, uniform_fan_in
from ._misc import init_uniform as init_uniform  # re-exported for the RNN cells
from ._spatial import Padding
from ._validate import per_axis, positive_int


class KernelLayer(Module):
    """The fields `Conv` and `ConvTranspose` begin with, in Equinox's order; each
    subclass declares the rest (`groups`, which the weight's shape names, among
    them) and is the class that is `checked`."""

    num_spatial_dims: int = field(static=True)
    weight: Inexact[Array, "out_channels in_channels//groups *kernel_size"]
    bias: Inexact[Array, " out_channels *bias_spatial"] | None
    in_channels: int = field(static=True)
    out_channels: int = field(static=True)
    kernel_size: tuple[int, ...] = field(static=True)
    stride: tuple[int, ...] = field(static=True)
    padding: Padding = field(static=True)


def set_kernel_fields(
    layer: Any,
    num_spatial_dims: Any,
    in_channels: Any,
    out_channels: Any,
    kernel_size: Any,
    stride: Any,
    dilation: Any,
    groups: Any,
    use_bias: bool,
) -> None:
    """Checks the configuration `Conv` and `ConvTranspose` share (all but the
    padding, which each reads its own way) and sets it on `layer`, inside its
    `__init__`, in normal form: ints, and per-axis tuples."""
    name = type(layer).__name__
    n = positive_int(name, "num_spatial_dims", num_spatial_dims)
    layer.num_spatial_dims = n
    layer.in_channels = positive_int(name, "in_channels", in_channels)
    layer.out_channels = positive_int(name, "out_channels", out_channels)
    layer.groups = check_groups(name, layer.in_channels, layer.out_channels, groups)
    layer.kernel_size = per_axis(name, "kernel_size", kernel_size, n, 1)
    layer.stride = per_axis(name, "stride", stride, n, 1)
    layer.dilation = per_axis(name, "dilation", dilation, n, 1)
    layer.use_bias = use_bias


def init_kernel(
    layer: Any, dtype: DTypeLike | None, key: PRNGKeyArray
) -> tuple[Array, Array | None]:
    """For a `layer` whose configuration is set: a weight `(out_channels,
    in_channels // groups, *kernel_size)` and a bias `(out_channels, 1, ..., 1)`
    (or `None`), uniform in ±1/sqrt(fan_in) as in Equinox."""
    dtype = default_floating_dtype() if dtype is None else dtype
    wkey, bkey = jr.split(key)
    in_per_group = layer.in_channels // layer.groups
    fan_in = in_per_group * math.prod(layer.kernel_size)
    weight_shape = (layer.out_channels, in_per_group, *layer.kernel_size)
    weight = uniform_fan_in(wkey, weight_shape, fan_in, dtype)
    if not layer.use_bias:
        return weight, None
    bias_shape = (layer.out_channels,) + (1,) * len(layer.kernel_size)
    return weight, uniform_fan_in(bkey, bias_shape, fan_in, dtype)


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
