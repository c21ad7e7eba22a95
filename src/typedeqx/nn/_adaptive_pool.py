"""`AdaptivePool` and its forms `AdaptiveMaxPool1d/2d/3d`, `AdaptiveAvgPool1d/2d/3d`."""

from collections.abc import Callable, Sequence
from typing import Annotated

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray, Shaped

from .._contracts import AtLeast, Rank, checked
from .._module import Module, field
from ._misc import ArrayIn
from ._validate import per_axis, positive_int

_RANK = Rank(
    "len(target_shape) + 1",
    "a channel axis and one spatial axis per size of target_shape={target_shape}",
)
# Equinox divides by zero on an axis shorter than its target (a
# `ZeroDivisionError`), so this contract's error is one too.
_LONG_ENOUGH = AtLeast(
    "target_shape",
    1,
    "every chunk needs an element; use a smaller target_shape",
    raises=ZeroDivisionError,
)


@checked
class AdaptivePool(Module):
    """Reduces each spatial axis to a target size, whatever the input size.

    An axis of size `n` pooled to `t` is cut into `t` contiguous chunks: the first
    `n % t` of `n // t + 1` elements, the rest of `n // t`. `operation` reduces each
    chunk; the axes are pooled one after the other.
    """

    target_shape: tuple[int, ...] = field(static=True)
    operation: Callable[[Array], Array]

    def __init__(
        self,
        target_shape: int | Sequence[int],
        num_spatial_dims: int,
        operation: Callable[[Array], Array],
    ):
        """**Arguments:**

        - `target_shape`: the output's spatial shape: an int for every axis, or a
            sequence of `num_spatial_dims` ints.
        - `num_spatial_dims`: the number of spatial axes.
        - `operation`: reduces a 1-dimensional chunk to a scalar, e.g. `jnp.max`.
        """
        name = type(self).__name__
        n = positive_int(name, "num_spatial_dims", num_spatial_dims)
        self.target_shape = per_axis(name, "target_shape", target_shape, n, 1)
        self.operation = operation

    def __call__(
        self,
        x: Annotated[Shaped[ArrayIn, " channels *spatial"], _RANK, _LONG_ENOUGH],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Shaped[Array, " channels *target_shape"]:
        """**Arguments:**

        - `x`: input of shape `(channels, *spatial)`, with `len(target_shape)`
            spatial axes, each at least as long as its target.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `(channels, *target_shape)`.
        """
        y = jnp.asarray(x)
        for axis, target in enumerate(self.target_shape, start=1):
            y = _pool_axis(y, axis, target, self.operation)
        return y


def _pool_axis(
    x: Array, axis: int, target: int, operation: Callable[[Array], Array]
) -> Array:
    size = x.shape[axis]
    short, long_count = divmod(size, target)
    moved = jnp.moveaxis(x, axis, -1)
    rows = moved.reshape(-1, size)
    reduce = jax.vmap(jax.vmap(operation))
    split = long_count * (short + 1)
    parts = []
    if long_count:
        parts.append(reduce(rows[:, :split].reshape(len(rows), long_count, short + 1)))
    if target > long_count:
        parts.append(
            reduce(rows[:, split:].reshape(len(rows), target - long_count, short))
        )
    pooled = jnp.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    return jnp.moveaxis(pooled.reshape(*moved.shape[:-1], target), -1, axis)


class AdaptiveAvgPool1d(AdaptivePool):
    """Averages `(channels, length)` down to `(channels, target)`."""

    def __init__(self, target_shape: int | Sequence[int]):
        """**Arguments:** `target_shape`, the output length."""
        super().__init__(target_shape, num_spatial_dims=1, operation=jnp.mean)


class AdaptiveAvgPool2d(AdaptivePool):
    """Averages `(channels, height, width)` down to `(channels, *target_shape)`."""

    def __init__(self, target_shape: int | Sequence[int]):
        """**Arguments:** `target_shape`, the output's spatial shape."""
        super().__init__(target_shape, num_spatial_dims=2, operation=jnp.mean)


class AdaptiveAvgPool3d(AdaptivePool):
    """Averages `(channels, depth, height, width)` down to `(channels,
    *target_shape)`."""

    def __init__(self, target_shape: int | Sequence[int]):
        """**Arguments:** `target_shape`, the output's spatial shape."""
        super().__init__(target_shape, num_spatial_dims=3, operation=jnp.mean)


class AdaptiveMaxPool1d(AdaptivePool):
    """Takes maxima of `(channels, length)` down to `(channels, target)`."""

    def __init__(self, target_shape: int | Sequence[int]):
        """**Arguments:** `target_shape`, the output length."""
        super().__init__(target_shape, num_spatial_dims=1, operation=jnp.max)


class AdaptiveMaxPool2d(AdaptivePool):
    """Takes maxima of `(channels, height, width)` down to `(channels,
    *target_shape)`."""

    def __init__(self, target_shape: int | Sequence[int]):
        """**Arguments:** `target_shape`, the output's spatial shape."""
        super().__init__(target_shape, num_spatial_dims=2, operation=jnp.max)


class AdaptiveMaxPool3d(AdaptivePool):
    """Takes maxima of `(channels, depth, height, width)` down to `(channels,
    *target_shape)`."""

    def __init__(self, target_shape: int | Sequence[int]):
        """**Arguments:** `target_shape`, the output's spatial shape."""
        super().__init__(target_shape, num_spatial_dims=3, operation=jnp.max)
