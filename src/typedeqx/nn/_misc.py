"""Small shared pieces for layers: the default dtype and weight initialisation."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, PRNGKeyArray

# What a layer accepts as input: JAX arrays (and tracers), and NumPy arrays, which
# Equinox layers accept too. Outputs are always JAX arrays.
ArrayIn = Array | np.ndarray


def default_floating_dtype() -> jnp.dtype:
    """float64 when JAX runs with x64 enabled, else float32."""
    return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))


def uniform_fan_in(
    key: PRNGKeyArray, shape: tuple[int, ...], fan_in: int, dtype: DTypeLike
) -> Array:
    """Samples uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (the PyTorch default).

    A zero `fan_in` (a layer with no inputs) uses the range [-1, 1]. A complex
    `dtype` samples the real and imaginary parts independently in that range, from
    two keys split from `key` (as Equinox does, so the same key gives the same
    parameters).

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the output shape.
    - `fan_in`: the number of inputs each output unit sums over (0 or more).
    - `dtype`: a floating or complex dtype.

    **Returns:**

    An array of `shape` and `dtype`.
    """
    limit = 1.0 if fan_in == 0 else 1 / math.sqrt(fan_in)
    return init_uniform(key, shape, dtype, limit)


def init_uniform(
    key: PRNGKeyArray, shape: tuple[int, ...], dtype: DTypeLike, limit: float
) -> Array:
    """Samples uniform in [-limit, limit], of `shape` and `dtype`; for a complex
    `dtype`, the real and imaginary parts independently, from two keys split from
    `key` (as Equinox does)."""
    if not jnp.issubdtype(dtype, jnp.complexfloating):
        return jr.uniform(key, shape, dtype, minval=-limit, maxval=limit)
    part_dtype = np.finfo(jnp.dtype(dtype)).dtype
    real_key, imag_key = jr.split(key)
    real = jr.uniform(real_key, shape, part_dtype, minval=-limit, maxval=limit)
    imag = jr.uniform(imag_key, shape, part_dtype, minval=-limit, maxval=limit)
    return real.astype(dtype) + 1j * imag.astype(dtype)
