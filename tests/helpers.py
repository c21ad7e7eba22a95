"""Shared test utilities."""

from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from typedeqx import is_array


def tree_allclose(x: Any, y: Any, *, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """Same structure, arrays equal within tolerance, other leaves equal."""
    xl, xt = jtu.tree_flatten(x)
    yl, yt = jtu.tree_flatten(y)
    if xt != yt:
        return False
    for a, b in zip(xl, yl):
        if is_array(a) and is_array(b):
            if np.shape(a) != np.shape(b) or not np.allclose(
                a, b, rtol=rtol, atol=atol
            ):
                return False
        elif a != b:
            return False
    return True


def ones(*shape: int, dtype: Any = jnp.float32) -> jax.Array:
    """`jnp.ones(shape, dtype)`, float32 by default, with the shape spread out."""
    return jnp.ones(shape, dtype)
