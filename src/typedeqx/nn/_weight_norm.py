"""`WeightNorm`: reparameterises a layer's weight as a direction times a learned
magnitude (Salimans and Kingma, 2016)."""

import functools
from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import checked, stand_in
from .._module import Module, field
from .._tree import tree_at
from ._misc import ArrayIn

_Layer = TypeVar("_Layer")


@checked
class WeightNorm(Module, Generic[_Layer]):
    """Weight normalisation of one parameter of a layer.

    The wrapped layer's weight `v` is used as `g * v / norm(v)`, where the norm is
    taken over every axis except `axis` (for a `Linear` and `axis=0`: one norm per
    output unit), and the magnitude `g` is a parameter of its own, initialised to
    `norm(v)` so that the wrapped layer starts out unchanged.
    """

    layer: _Layer
    g: Float[Array, "..."]
    weight_name: str = field(static=True)
    axis: int | None = field(static=True)

    def __init__(
        self, layer: _Layer, weight_name: str = "weight", axis: int | None = 0
    ):
        """**Arguments:**

        - `layer`: the layer to wrap, such as a `Linear`.
        - `weight_name`: the name of the layer's parameter (an array) to normalise.
        - `axis`: the axis the norm is *not* taken over: `g` holds one magnitude per
            index along it. `None` takes a single norm over the whole weight.
        """
        weight = _weight(layer, weight_name)
        if axis is not None and not -weight.ndim <= axis < weight.ndim:
            raise ValueError(
                f"WeightNorm(axis=...) must be None or an axis of the weight "
                f"{weight_name!r}, which has shape {weight.shape}; got {axis}."
            )
        self.layer = layer
        self.weight_name = weight_name
        self.axis = axis
        self.g = _norm(weight, axis)

    def __call__(self, x: ArrayIn, *, key: PRNGKeyArray | None = None) -> Array:
        """**Arguments:**

        - `x`: the wrapped layer's input, of whatever shape it accepts.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        The wrapped layer's output for `x`, computed with the normalised weight.
        """
        v = getattr(self.layer, self.weight_name)
        weight = v * self.g / _norm(v, self.axis)
        layer = tree_at(lambda m: getattr(m, self.weight_name), self.layer, weight)
        stand_in(layer, self)  # errors inside it are named from this wrapper
        out: Array = layer(x)
        return out


def _weight(layer: Any, weight_name: str) -> Array:
    try:
        weight = getattr(layer, weight_name)
    except AttributeError:
        raise AttributeError(
            f"WeightNorm(weight_name={weight_name!r}): the layer "
            f"{type(layer).__name__} has no attribute {weight_name!r}; pass the name "
            "of its weight array."
        ) from None
    if not isinstance(weight, jax.Array):
        raise ValueError(
            f"WeightNorm(weight_name={weight_name!r}) must name an array of the "
            f"layer; {type(layer).__name__}.{weight_name} is a "
            f"{type(weight).__name__}."
        )
    return weight


def _norm(v: Array, axis: int | None) -> Array:
    """The 2-norm of `v` over every axis but `axis`, keeping `v`'s rank."""
    norm = functools.partial(jnp.linalg.norm, keepdims=True)
    out: Array = norm(v) if axis is None else jax.vmap(norm, axis, axis)(v)
    return out
