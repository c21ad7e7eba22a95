"""`Conv` and its fixed-dimension forms `Conv1d`, `Conv2d`, `Conv3d`."""

from collections.abc import Sequence
from typing import Annotated

import jax.lax as lax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Inexact, PRNGKeyArray

from .._contracts import SameDtype, checked
from .._module import field
from ._kernel import KernelLayer, init_kernel, set_kernel_fields
from ._misc import ArrayIn
from ._spatial import (
    SPATIAL_RANK,
    Padding,
    PaddingLike,
    check_padding_content,
    check_window_fits,
    explicit_padding,
    padding_mode_of,
    padding_of,
)

# jnp.pad's names for the non-zero padding modes.
_PAD_MODES = {"REFLECT": "reflect", "REPLICATE": "edge", "CIRCULAR": "wrap"}


@checked
class Conv(KernelLayer):
    """An N-dimensional convolution (cross-correlation, as in `lax`) with bias."""

    dilation: tuple[int, ...] = field(static=True)
    groups: int = field(static=True)
    use_bias: bool = field(static=True)
    padding_mode: str = field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `num_spatial_dims`: the number of spatial axes (2 for images).
        - `in_channels`, `out_channels`: channel counts of the input and output.
        - `kernel_size`, `stride`, `dilation`: an int for every spatial axis, or a
            sequence of `num_spatial_dims` ints.
        - `padding`: an int for every side, a sequence of one int per axis, a
            sequence of `(before, after)` pairs, or `"SAME"` (extra padding after),
            `"SAME_LOWER"` (extra padding before) or `"VALID"` (none).
        - `groups`: split the channels into this many independent groups; it must
            divide `in_channels` and `out_channels`.
        - `use_bias`: whether to add a bias of shape `(out_channels, 1, ..., 1)`.
        - `padding_mode`: what the padding holds: `"ZEROS"`, `"REFLECT"`
            (`1234 -> 32123432`), `"REPLICATE"` (`1234 -> 11123444`) or
            `"CIRCULAR"` (`1234 -> 34123412`).
        - `dtype`: dtype of the parameters (default float32, or float64 with x64).
        - `key`: PRNG key; weight and bias are uniform in ±1/sqrt(fan_in), where
            fan_in is `in_channels // groups * prod(kernel_size)`.
        """
        set_kernel_fields(
            self, num_spatial_dims, in_channels, out_channels, kernel_size, stride,
            dilation, groups, use_bias,
        )  # fmt: skip
        name = type(self).__name__
        self.padding = padding_of(name, padding, self.num_spatial_dims)
        self.padding_mode = padding_mode_of(name, padding_mode)
        if self.padding_mode != "ZEROS" and _has_negative(self.padding):
            raise ValueError(
                f"{name}(padding=...) must be non-negative with "
                f"padding_mode={self.padding_mode!r}; got {padding!r}."
            )
        self.weight, self.bias = init_kernel(self, dtype, key)

    def __call__(
        self,
        x: Annotated[
            Inexact[ArrayIn, " in_channels *spatial"], SPATIAL_RANK, SameDtype("weight")
        ],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " out_channels *out_spatial"]:
        """**Arguments:**

        - `x`: input of shape `(in_channels, *spatial)`, with `num_spatial_dims`
            spatial axes and the parameters' dtype.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `(out_channels, *out_spatial)`, where along each axis
        `out = (size + before + after - dilation * (kernel - 1) - 1) // stride + 1`.
        """
        spans = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
        pads = explicit_padding(self.padding, x.shape[1:], spans, self.stride)
        if self.padding_mode != "ZEROS":
            check_padding_content(self, x, pads, self.padding_mode)
        check_window_fits(type(self).__name__, x, pads, spans)
        if self.padding_mode != "ZEROS":
            x = jnp.pad(x, ((0, 0), *pads), _PAD_MODES[self.padding_mode])
            pads = ((0, 0),) * self.num_spatial_dims
        y = lax.conv_general_dilated(
            lhs=jnp.asarray(x)[None],
            rhs=self.weight,
            window_strides=self.stride,
            padding=pads,
            rhs_dilation=self.dilation,
            feature_group_count=self.groups,
        )[0]
        if self.bias is not None:
            y = y + self.bias
        return y


def _has_negative(padding: Padding) -> bool:
    return not isinstance(padding, str) and any(p < 0 for pair in padding for p in pair)


class Conv1d(Conv):
    """`Conv` with `num_spatial_dims=1`: input `(in_channels, length)`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:** as `Conv`, without `num_spatial_dims`."""
        super().__init__(
            1, in_channels, out_channels, kernel_size, stride, padding, dilation,
            groups, use_bias, padding_mode, dtype, key=key,
        )  # fmt: skip


class Conv2d(Conv):
    """`Conv` with `num_spatial_dims=2`: input `(in_channels, height, width)`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (1, 1),
        padding: PaddingLike = (0, 0),
        dilation: int | Sequence[int] = (1, 1),
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:** as `Conv`, without `num_spatial_dims`."""
        super().__init__(
            2, in_channels, out_channels, kernel_size, stride, padding, dilation,
            groups, use_bias, padding_mode, dtype, key=key,
        )  # fmt: skip


class Conv3d(Conv):
    """`Conv` with `num_spatial_dims=3`: input `(in_channels, depth, height, width)`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (1, 1, 1),
        padding: PaddingLike = (0, 0, 0),
        dilation: int | Sequence[int] = (1, 1, 1),
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:** as `Conv`, without `num_spatial_dims`."""
        super().__init__(
            3, in_channels, out_channels, kernel_size, stride, padding, dilation,
            groups, use_bias, padding_mode, dtype, key=key,
        )  # fmt: skip
