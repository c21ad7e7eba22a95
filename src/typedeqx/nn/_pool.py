"""`Pool` and its forms `MaxPool1d/2d/3d` and `AvgPool1d/2d/3d`."""

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import jax.lax as lax
import jax.numpy as jnp
from jaxtyping import Array, Inexact, Num, PRNGKeyArray, Shaped

from .._contracts import checked
from .._module import Module, field
from ._misc import ArrayIn
from ._spatial import SPATIAL_RANK, Pairs, check_window_fits, pairs_of
from ._validate import per_axis, positive_int

# Equinox's pools assert their input's rank, so a wrong rank is also an
# `AssertionError` here (as well as the `ShapeError` of every contract).
POOL_RANK = dataclasses.replace(SPATIAL_RANK, raises=AssertionError)


@checked
class Pool(Module):
    """An N-dimensional reduction over a sliding window, computed independently for
    each channel with `lax.reduce_window`.

    `operation(init, x) == x` must hold for every finite `x` (as for `lax.max` with
    `-inf`, or `lax.add` with `0`), else the result is not differentiable.
    """

    init: int | float | Array
    operation: Callable[[Array, Array], Array]
    num_spatial_dims: int = field(static=True)
    kernel_size: tuple[int, ...] = field(static=True)
    stride: tuple[int, ...] = field(static=True)
    padding: Pairs = field(static=True)
    use_ceil: bool = field(static=True)

    def __init__(
        self,
        init: int | float | Array,
        operation: Callable[[Array, Array], Array],
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:**

        - `init`: the initial value of the reduction (and the padding value).
        - `operation`: the binary reduction, e.g. `lax.max`.
        - `num_spatial_dims`: the number of spatial axes.
        - `kernel_size`, `stride`: an int for every spatial axis, or a sequence of
            `num_spatial_dims` ints.
        - `padding`: an int for every side, one int per axis, or one
            `(before, after)` pair per axis; each at most the kernel size.
        - `use_ceil`: round the output size up instead of down, padding one more
            stride at the end of an axis where the windows do not fit exactly.
        """
        name = type(self).__name__
        n = positive_int(name, "num_spatial_dims", num_spatial_dims)
        self.init = init
        self.operation = operation
        self.num_spatial_dims = n
        self.kernel_size = per_axis(name, "kernel_size", kernel_size, n, 1)
        self.stride = per_axis(name, "stride", stride, n, 1)
        pads = pairs_of(name, padding, n)
        _check_padding(name, pads, self.kernel_size, "padding")
        self.padding = pads
        self.use_ceil = use_ceil

    def __call__(
        self,
        x: Annotated[Shaped[ArrayIn, " channels *spatial"], POOL_RANK],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Shaped[Array, " channels *out_spatial"]:
        """**Arguments:**

        - `x`: input of shape `(channels, *spatial)`, with `num_spatial_dims`
            spatial axes.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `(channels, *out_spatial)`, where along each axis
        `out = (size + before + after - kernel) // stride + 1` (rounded up with
        `use_ceil`).
        """
        return _reduce_windows(self, x)


def _reduce_windows(pool: Pool, x: Any) -> Array:
    """`pool`'s reduction of `x`, once its annotation has been checked."""
    pads = pool.padding
    if pool.use_ceil:
        pads = _ceil_padding(x.shape[1:], pads, pool.kernel_size, pool.stride)
        _check_padding(type(pool).__name__, pads, pool.kernel_size, "use_ceil=True")
    check_window_fits(type(pool).__name__, x, pads, pool.kernel_size)
    # reduce_window runs over every axis; the channel axis gets a window of 1. XLA's
    # CPU kernels are several times faster with the channels last (measured in
    # benchmarks/bench_layers.py), so the channel axis moves there and back.
    channels_last = jnp.moveaxis(x, 0, -1)
    result = lax.reduce_window(
        channels_last,
        pool.init,
        pool.operation,
        (*pool.kernel_size, 1),
        (*pool.stride, 1),
        (*pads, (0, 0)),
    )
    return jnp.moveaxis(result, -1, 0)


def _ceil_padding(
    sizes: tuple[int, ...],
    pads: Pairs,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
) -> Pairs:
    # Where the windows do not tile the padded axis exactly, one more stride of
    # padding at the end makes room for a last, partial window.
    return tuple(
        (lo, hi) if (n + lo + hi - k) % s == 0 else (lo, hi + s)
        for n, (lo, hi), k, s in zip(sizes, pads, kernel, stride)
    )


def _check_padding(layer: str, pads: Pairs, kernel: tuple[int, ...], what: str) -> None:
    for (lo, hi), k in zip(pads, kernel):
        if min(lo, hi) < 0 or max(lo, hi) > k:
            raise ValueError(
                f"{layer}(padding=...) must be between 0 and the kernel size on each "
                f"side, so that every window holds an input; with {what}, got "
                f"padding {(lo, hi)} for kernel size {k}. Use less padding, or "
                f"use_ceil=False."
            )


def _average(pool: Pool, x: Any) -> Array:
    # The padding counts towards the window size, as in Equinox. The sum goes
    # through `Pool.__call__`, so profiles show Equinox's nested scope names.
    total: Array = Pool.__call__(pool, x)
    return total / math.prod(pool.kernel_size)


_Pad = int | Sequence[int] | Sequence[tuple[int, int]]


class MaxPool1d(Pool):
    """The maximum over a sliding window, for input `(channels, length)`."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _Pad = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:** as `Pool`, without `init`, `operation`, `num_spatial_dims`."""
        super().__init__(-jnp.inf, lax.max, 1, kernel_size, stride, padding, use_ceil)


class MaxPool2d(Pool):
    """The maximum over a sliding window, for input `(channels, height, width)`."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _Pad = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:** as `Pool`, without `init`, `operation`, `num_spatial_dims`."""
        super().__init__(-jnp.inf, lax.max, 2, kernel_size, stride, padding, use_ceil)


class MaxPool3d(Pool):
    """The maximum over a sliding window, for input `(channels, depth, height,
    width)`."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _Pad = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:** as `Pool`, without `init`, `operation`, `num_spatial_dims`."""
        super().__init__(-jnp.inf, lax.max, 3, kernel_size, stride, padding, use_ceil)


@checked  # its own `__call__` is a contract too (subclasses opt in one by one)
class AvgPool1d(Pool):
    """The mean over a sliding window (padding counted), for input `(channels,
    length)`."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _Pad = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:** as `Pool`, without `init`, `operation`, `num_spatial_dims`."""
        super().__init__(0, lax.add, 1, kernel_size, stride, padding, use_ceil)

    def __call__(
        self,
        x: Annotated[Num[ArrayIn, " channels *spatial"], POOL_RANK],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " channels *out_spatial"]:
        """**Arguments:** `x`, of shape `(channels, length)`, a numeric dtype.
        **Returns:** the means, of shape `(channels, out_length)`, floating."""
        return _average(self, x)


@checked  # its own `__call__` is a contract too (subclasses opt in one by one)
class AvgPool2d(Pool):
    """The mean over a sliding window (padding counted), for input `(channels,
    height, width)`."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _Pad = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:** as `Pool`, without `init`, `operation`, `num_spatial_dims`."""
        super().__init__(0, lax.add, 2, kernel_size, stride, padding, use_ceil)

    def __call__(
        self,
        x: Annotated[Num[ArrayIn, " channels *spatial"], POOL_RANK],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " channels *out_spatial"]:
        """**Arguments:** `x`, of shape `(channels, height, width)`, a numeric
        dtype. **Returns:** the means, of shape `(channels, out_height, out_width)`,
        floating."""
        return _average(self, x)


@checked  # its own `__call__` is a contract too (subclasses opt in one by one)
class AvgPool3d(Pool):
    """The mean over a sliding window (padding counted), for input `(channels,
    depth, height, width)`."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _Pad = 0,
        use_ceil: bool = False,
    ):
        """**Arguments:** as `Pool`, without `init`, `operation`, `num_spatial_dims`."""
        super().__init__(0, lax.add, 3, kernel_size, stride, padding, use_ceil)

    def __call__(
        self,
        x: Annotated[Num[ArrayIn, " channels *spatial"], POOL_RANK],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " channels *out_spatial"]:
        """**Arguments:** `x`, of shape `(channels, depth, height, width)`, a
        numeric dtype. **Returns:** the means, of shape `(channels, *out_spatial)`,
        floating."""
        return _average(self, x)
