"""`Dropout`: zero each element with probability `p` while training."""

import warnings
from typing import Any

import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import checked
from .._module import Module
from ._layer_errors import missing_key
from ._misc import ArrayIn


@checked
class Dropout(Module):
    """Zeroes each element with probability `p` and scales the rest by `1 / (1 - p)`,
    unless in inference mode (`inference=True`, or `p == 0`), where it is the
    identity. `typedeqx.nn.inference_mode(model)` switches every `Dropout` off.
    """

    # Ordinary (not static) fields, so that `tree_at` and `inference_mode` can
    # change them without recompiling anything that closes over the layer's arrays.
    p: float | Array
    inference: bool

    def __init__(
        self,
        p: float | Array = 0.5,
        inference: bool = False,
        *,
        deterministic: bool | None = None,
    ):
        """**Arguments:**

        - `p`: the probability of zeroing each element, in `[0, 1]`.
        - `inference`: whether to start in inference mode (no dropout).
        - `deterministic`: deprecated spelling of `inference`.
        """
        if isinstance(p, (int, float)) and not 0 <= p <= 1:
            raise ValueError(
                f"Dropout(p=...) is a probability and must lie in [0, 1]; got {p!r}."
            )
        if deterministic is not None:
            inference = deterministic
            warnings.warn(
                "Dropout(deterministic=...) is deprecated; use "
                "Dropout(inference=...) instead.",
                stacklevel=2,
            )
        self.p = p
        self.inference = inference

    @property
    def deterministic(self) -> bool:
        """Deprecated alias of `inference`."""
        return self.inference

    def __call__(
        self,
        x: Float[ArrayIn, "*shape"],
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
    ) -> Float[ArrayIn, "*shape"]:
        """**Arguments:**

        - `x`: input of any shape `*shape`.
        - `key`: PRNG key for the dropout mask; required unless in inference mode.
        - `inference`: overrides the layer's `inference` flag for this call.
        - `deterministic`: deprecated spelling of `inference`.

        **Returns:**

        Output of shape `*shape`: `x` itself in inference mode.
        """
        if deterministic is not None:
            inference = deterministic
            warnings.warn(
                "Dropout()(deterministic=...) is deprecated; use "
                "Dropout()(inference=...) instead.",
                stacklevel=2,
            )
        if inference is None:
            inference = self.inference
        if isinstance(self.p, (int, float)) and self.p == 0:
            inference = True
        if inference:
            return x
        if key is None:
            raise missing_key(self)
        return _drop(x, self.p, key)


def _drop(x: Any, p: float | Array, key: PRNGKeyArray) -> Array:
    keep = 1 - lax.stop_gradient(p)
    mask = jr.bernoulli(key, keep, jnp.shape(x))
    return jnp.where(mask, x / keep, 0)
