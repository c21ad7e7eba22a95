"""`ConvTranspose` and its fixed-dimension forms `ConvTranspose1d/2d/3d`."""

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
    Pairs,
    check_window_fits,
    padding_mode_of,
    padding_of,
)
from ._validate import per_axis


@checked
class ConvTranspose(KernelLayer):
    """An N-dimensional transposed convolution: it maps inputs shaped like a `Conv`'s
    output to outputs shaped like its input, with the same connectivity.

    Built with `in_channels` and `out_channels` swapped and the same `kernel_size`,
    `stride`, `padding`, `dilation` and `groups`, it goes the opposite way to that
    `Conv`. As a `Conv` with `stride > 1` maps several input sizes to one output
    size, `output_padding` picks among them: it shortens the output for `"SAME"`
    padding and lengthens it at the end otherwise.
    """

    output_padding: tuple[int, ...] = field(static=True)
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
        output_padding: int | Sequence[int] = 0,
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
        - `kernel_size`, `stride`, `dilation`: as for the equivalent `Conv`; an int
            for every spatial axis, or a sequence of `num_spatial_dims` ints.
        - `padding`: the padding of the equivalent `Conv` (ints, pairs, `"SAME"`,
            `"SAME_LOWER"` or `"VALID"`).
        - `output_padding`: extra output size per axis, each below its stride.
        - `groups`: independent channel groups; it must divide both channel counts.
        - `use_bias`: whether to add a bias of shape `(out_channels, 1, ..., 1)`.
        - `padding_mode`: `"ZEROS"`, or `"CIRCULAR"` (only with `"SAME"` or
            `"SAME_LOWER"` padding and no `output_padding`).
        - `dtype`: dtype of the parameters (default float32, or float64 with x64).
        - `key`: PRNG key; weight and bias are uniform in ±1/sqrt(fan_in), where
            fan_in is `in_channels // groups * prod(kernel_size)`.
        """
        set_kernel_fields(
            self, num_spatial_dims, in_channels, out_channels, kernel_size, stride,
            dilation, groups, use_bias,
        )  # fmt: skip
        name = type(self).__name__
        self.output_padding = per_axis(
            name, "output_padding", output_padding, self.num_spatial_dims, 0
        )
        if any(a >= s for a, s in zip(self.output_padding, self.stride)):
            raise ValueError(
                f"{name}(output_padding=...) must be below stride on every axis; got "
                f"output_padding={self.output_padding}, stride={self.stride}."
            )
        self.padding = padding_of(name, padding, self.num_spatial_dims)
        self.padding_mode = padding_mode_of(name, padding_mode)
        _check_mode(name, self.padding_mode, self.padding, self.output_padding)
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

        Output of shape `(out_channels, *out_spatial)`: along each axis
        `size * stride - output_padding` for `"SAME"` padding, else
        `(size - 1) * stride - before - after + dilation * (kernel - 1) + 1
        + output_padding`.
        """
        pads = self._transposed_padding()
        if self.padding_mode == "CIRCULAR":
            wrap = tuple((lo // s, hi // s) for (lo, hi), s in zip(pads, self.stride))
            x = jnp.pad(x, ((0, 0), *wrap), "wrap")
            pads = tuple((lo % s, hi % s) for (lo, hi), s in zip(pads, self.stride))
        spans = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
        dilated = tuple(
            max(0, (n - 1) * s + 1) for n, s in zip(x.shape[1:], self.stride)
        )
        if 0 not in dilated or _negative_output(dilated, pads, spans):
            # An empty input gives an empty output, as in Equinox, unless the
            # padding would make its length negative.
            check_window_fits(type(self).__name__, x, pads, spans, dilated)
        y = lax.conv_general_dilated(
            lhs=jnp.asarray(x)[None],
            rhs=self.weight,
            window_strides=(1,) * self.num_spatial_dims,
            padding=pads,
            lhs_dilation=self.stride,
            rhs_dilation=self.dilation,
            feature_group_count=self.groups,
        )[0]
        if self.bias is not None:
            y = y + self.bias
        return y

    def _transposed_padding(self) -> Pairs:
        # The padding of the equivalent Conv, then relationship 14 of Dumoulin and
        # Visin (arXiv:1603.07285): a side padded by p becomes d * (k - 1) - p.
        result = []
        for axis, (k, s, a, d) in enumerate(
            zip(self.kernel_size, self.stride, self.output_padding, self.dilation)
        ):
            reach = d * (k - 1)
            if self.padding == "VALID":
                before, after = 0, 0
            elif isinstance(self.padding, str):
                total = reach - s + a + 1
                # A negative total cannot be padded; the output grows by it instead.
                a, total = max(-total, 0), max(total, 0)
                before = (total + (self.padding == "SAME_LOWER")) // 2
                after = total - before
            else:
                before, after = self.padding[axis]
            result.append((reach - before, reach - after + a))
        return tuple(result)


def _check_mode(
    layer: str, mode: str, padding: Padding, output_padding: tuple[int, ...]
) -> None:
    # NotImplementedError, as Equinox raises: these are valid requests, not built.
    if mode in ("REFLECT", "REPLICATE"):
        raise NotImplementedError(
            f"{layer}(padding_mode={mode!r}) is not implemented; use 'ZEROS' or "
            "'CIRCULAR'."
        )
    if mode == "CIRCULAR" and any(output_padding):
        raise NotImplementedError(
            f"{layer}(padding_mode='CIRCULAR') is implemented only with "
            f"output_padding=0; got {output_padding}."
        )
    if mode == "CIRCULAR" and padding not in ("SAME", "SAME_LOWER"):
        raise NotImplementedError(
            f"{layer}(padding_mode='CIRCULAR') is implemented only with "
            f"padding='SAME' or 'SAME_LOWER'; got {padding!r}."
        )


class ConvTranspose1d(ConvTranspose):
    """`ConvTranspose` with `num_spatial_dims=1`: input `(in_channels, length)`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        output_padding: int | Sequence[int] = 0,
        padding: PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:** as `ConvTranspose`, without `num_spatial_dims` (note that
        `output_padding` comes before `padding` here, as in Equinox)."""
        super().__init__(
            1, in_channels, out_channels, kernel_size, stride, padding,
            output_padding, dilation, groups, use_bias, padding_mode, dtype, key=key,
        )  # fmt: skip


class ConvTranspose2d(ConvTranspose):
    """`ConvTranspose` with `num_spatial_dims=2`: input `(in_channels, height,
    width)`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (1, 1),
        output_padding: int | Sequence[int] = (0, 0),
        padding: PaddingLike = (0, 0),
        dilation: int | Sequence[int] = (1, 1),
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:** as `ConvTranspose1d`."""
        super().__init__(
            2, in_channels, out_channels, kernel_size, stride, padding,
            output_padding, dilation, groups, use_bias, padding_mode, dtype, key=key,
        )  # fmt: skip


class ConvTranspose3d(ConvTranspose):
    """`ConvTranspose` with `num_spatial_dims=3`: input `(in_channels, depth,
    height, width)`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (1, 1, 1),
        output_padding: int | Sequence[int] = (0, 0, 0),
        padding: PaddingLike = (0, 0, 0),
        dilation: int | Sequence[int] = (1, 1, 1),
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:** as `ConvTranspose1d`."""
        super().__init__(
            3, in_channels, out_channels, kernel_size, stride, padding,
            output_padding, dilation, groups, use_bias, padding_mode, dtype, key=key,
        )  # fmt: skip


def _negative_output(
    dilated: tuple[int, ...], pads: tuple[tuple[int, int], ...], spans: tuple[int, ...]
) -> bool:
    return any(
        n + lo + hi - span + 1 < 0 for n, (lo, hi), span in zip(dilated, pads, spans)
    )
