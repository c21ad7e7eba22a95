"""`PReLU`: a leaky ReLU whose negative slope is learned."""

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Shaped

from .._contracts import ShapeError, argument_error, checked
from .._module import Module
from ._misc import ArrayIn


@checked
class PReLU(Module):
    """`x` where `x >= 0`, else `negative_slope * x`, elementwise.

    `negative_slope` is a scalar, or an array that broadcasts against the trailing
    axes of the input (for example one slope per channel of a channels-last input).
    """

    negative_slope: Shaped[Array, "*slope"]

    def __init__(self, init_alpha: float | ArrayLike | None = 0.25):
        """**Arguments:**

        - `init_alpha`: the initial negative slope, a number or an array.
        """
        if init_alpha is None:
            raise ValueError(
                "PReLU(init_alpha=...) must be a number or an array; got None."
            )
        self.negative_slope = jnp.asarray(init_alpha)

    def __call__(self, x: Float[ArrayIn, "*shape"]) -> Float[Array, "*shape"]:
        """**Arguments:**

        - `x`: input of any shape `*shape` whose trailing axes broadcast with
            `negative_slope`.

        **Returns:**

        Output of shape `*shape`.
        """
        if not _broadcasts(jnp.shape(self.negative_slope), jnp.shape(x)):
            raise _slope_error(self, x)
        # A scalar or per-channel slope broadcasts against x by design.
        with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
            return jnp.where(x >= 0, x, self.negative_slope * x)


def _broadcasts(slope: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    if len(slope) > len(shape):
        return False
    trailing = shape[len(shape) - len(slope) :]
    return all(s in (1, d) for s, d in zip(slope, trailing))


def _slope_error(layer: PReLU, x: Any) -> ShapeError:
    slope = tuple(jnp.shape(layer.negative_slope))
    return argument_error(
        layer,
        "x",
        x,
        expected='Float[Array, "*shape"]',
        detail=(
            f"its trailing axes do not broadcast with negative_slope of shape {slope}"
        ),
        hint="a per-channel slope needs the channels on the last axis of x.",
    )
