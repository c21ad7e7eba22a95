"""Shared pieces of the convolution and pooling layers: normalising per-axis sizes
and paddings at construction, and the checks on a spatial input at call time."""

from collections.abc import Sequence
from typing import Any

import jax.lax as lax

from .._contracts import Rank, describe, module_location
from ._validate import is_int

# A padding as a layer stores it: a string for `lax` to resolve against the input
# size, or one `(before, after)` pair per spatial axis.
Pairs = tuple[tuple[int, int], ...]
Padding = str | Pairs
PaddingLike = str | int | Sequence[int] | Sequence[tuple[int, int]]

# The rank of a spatial layer's input: stated once, checked with its annotation.
SPATIAL_RANK = Rank(
    "num_spatial_dims + 1",
    "a channel axis and num_spatial_dims={num_spatial_dims} spatial axes",
)

_PADDING_STRINGS = ("SAME", "SAME_LOWER", "VALID")
PADDING_MODES = ("ZEROS", "REFLECT", "REPLICATE", "CIRCULAR")


def padding_of(layer: str, value: Any, num_spatial_dims: int) -> Padding:
    """Normalise a padding: `"SAME"`, `"SAME_LOWER"` or `"VALID"` (any case), an
    int for every side, one int per axis for both its sides, or one
    `(before, after)` pair per axis."""
    if isinstance(value, str) and value.upper() in _PADDING_STRINGS:
        return value.upper()
    pairs = _pairs(value, num_spatial_dims)
    if pairs is None:
        raise _padding_error(
            layer, value, num_spatial_dims, "'SAME', 'SAME_LOWER', 'VALID', "
        )
    return pairs


def pairs_of(layer: str, value: Any, num_spatial_dims: int) -> Pairs:
    """As `padding_of`, without the strings."""
    pairs = _pairs(value, num_spatial_dims)
    if pairs is None:
        raise _padding_error(layer, value, num_spatial_dims, "")
    return pairs


def _pairs(value: Any, num_spatial_dims: int) -> Pairs | None:
    if is_int(value):
        return ((value, value),) * num_spatial_dims
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == num_spatial_dims and all(is_int(p) for p in value):
            return tuple((p, p) for p in value)
        if len(value) == num_spatial_dims and all(_is_pair(p) for p in value):
            return tuple((p[0], p[1]) for p in value)
    return None


def _padding_error(layer: str, value: Any, n: int, strings: str) -> ValueError:
    return ValueError(
        f"{layer}(padding=...) must be {strings}an int, or a sequence of "
        f"{n} ints or of {n} (before, after) pairs of ints; got {value!r}."
    )


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(is_int(v) for v in value)
    )


def padding_mode_of(layer: str, value: Any) -> str:
    """Normalise a padding mode to one of `PADDING_MODES` (upper case)."""
    if isinstance(value, str) and value.upper() in PADDING_MODES:
        return value.upper()
    raise ValueError(
        f"{layer}(padding_mode=...) must be one of {', '.join(PADDING_MODES)}; "
        f"got {value!r}."
    )


def explicit_padding(
    padding: Padding,
    sizes: tuple[int, ...],
    window: tuple[int, ...],
    stride: tuple[int, ...],
) -> Pairs:
    """The `(before, after)` pairs that a padding means for an input of spatial
    `sizes`, resolving `"SAME"`, `"SAME_LOWER"` and `"VALID"` as `lax` does."""
    if isinstance(padding, str):
        pads = lax.padtype_to_pads(sizes, window, stride, padding)
        return tuple((int(lo), int(hi)) for lo, hi in pads)
    return padding


def check_window_fits(
    layer: str,
    x: Any,
    pads: Pairs,
    spans: tuple[int, ...],
    sizes: tuple[int, ...] | None = None,
) -> None:
    """A `ValueError` unless every padded spatial size of `x` (or `sizes`, the
    spatial sizes the window runs over) holds at least one window of `spans`."""
    sizes = tuple(x.shape[1:]) if sizes is None else sizes
    for axis, (size, (lo, hi), span) in enumerate(zip(sizes, pads, spans)):
        if min(lo, hi) < -size:
            raise ValueError(
                f"{layer}: padding {(lo, hi)} along spatial axis {axis} removes more "
                f"than the whole axis of input x {describe(x)}. Use a smaller "
                f"negative padding."
            )
        if size + lo + hi < span:
            raise ValueError(
                f"{layer}: input x {describe(x)} is too small for the window along "
                f"spatial axis {axis}: its padded size is {size + lo + hi} but the "
                f"(dilated) kernel spans {span}, so the output would be empty. Use a "
                f"larger input, more padding, padding='SAME', or a smaller kernel_size."
            )


def check_padding_content(module: Any, x: Any, pads: Pairs, mode: str) -> None:
    """A `ValueError` (the type `jnp.pad` raises) naming the layer's path when a
    padding mode that copies input values (`"REFLECT"`, `"REPLICATE"`,
    `"CIRCULAR"`) would pad an empty spatial axis of `x`: there is nothing to
    copy."""
    for axis, (size, (lo, hi)) in enumerate(zip(x.shape[1:], pads)):
        if size == 0 and (lo or hi):
            raise ValueError(
                f"{module_location(module)}: argument x is {describe(x)}, whose "
                f"spatial axis {axis} is empty, so padding_mode={mode!r} has no "
                "values to pad it with.\n"
                "  hint: pass an input with at least one element along every "
                "spatial axis, or use padding_mode='ZEROS'."
            )
