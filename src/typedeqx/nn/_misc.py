"""Small shared pieces for layers: the default dtype and weight initialisation."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, PRNGKeyArray

# What a layer accepts as input: JAX arrays (and tracers), and NumPy arrays, which
# Equinox layers accept too. Outputs are always JAX arrays.
ArrayIn = Array | np.ndarray


def default_floating_dtype() -> jnp.dtype:
    """float64 when JAX runs with x64 enabled, else float32."""
    return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))


def uniform_fan_in(
    key: PRNGKeyArray, shape: tuple[int, ...], fan_in: int, dtype: jnp.dtype
) -> Array:
    """Samples uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (the PyTorch default).

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the output shape.
    - `fan_in`: the number of inputs each output unit sums over (at least 1).
    - `dtype`: a floating dtype.

    **Returns:**

    An array of `shape` and `dtype`.
    """
    limit = 1 / math.sqrt(fan_in)
    return jr.uniform(key, shape, dtype, minval=-limit, maxval=limit)
