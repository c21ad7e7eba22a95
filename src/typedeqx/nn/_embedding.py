"""`Embedding`: a lookup table of fixed-size vectors."""

from typing import Any

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, Integer, PRNGKeyArray

from .._contracts import checked
from .._module import Module, field
from .._values import check_indices
from ._misc import ArrayIn, default_floating_dtype
from ._validate import int_at_least


@checked
class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_size`, indexed by an
    integer. Look up several indices with `jax.vmap`.
    """

    num_embeddings: int = field(static=True)
    embedding_size: int = field(static=True)
    weight: Float[Array, "num_embeddings embedding_size"]

    def __init__(
        self,
        num_embeddings: int | None = None,
        embedding_size: int | None = None,
        weight: Float[Array, "num_embeddings embedding_size"] | None = None,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray | None = None,
    ):
        """**Arguments:**

        - `num_embeddings`: the number of vectors in the table (non-negative).
        - `embedding_size`: the size of each vector (non-negative).
        - `weight`: the table itself, of shape `(num_embeddings, embedding_size)`;
            when given, the sizes may be omitted and no key is needed.
        - `dtype`: floating dtype of a generated table (default float32, or float64
            with x64 enabled).
        - `key`: PRNG key for a generated table, drawn from a standard normal.
        """
        if weight is None:
            if num_embeddings is None or embedding_size is None or key is None:
                raise ValueError(
                    "Embedding needs num_embeddings=..., embedding_size=... and "
                    "key=... to generate its table, or the table itself as weight=..."
                )
            for name, size in (
                ("num_embeddings", num_embeddings),
                ("embedding_size", embedding_size),
            ):
                int_at_least("Embedding", name, size, 0, "a non-negative int")
            dtype = default_floating_dtype() if dtype is None else dtype
            weight = jr.normal(key, (num_embeddings, embedding_size), dtype)
        else:
            num_embeddings, embedding_size = _sizes_of(
                weight, num_embeddings, embedding_size
            )
        self.weight = weight
        self.num_embeddings = num_embeddings
        self.embedding_size = embedding_size

    def __call__(
        self,
        x: Integer[ArrayIn, ""] | int | np.integer[Any],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, " embedding_size"]:
        """**Arguments:**

        - `x`: a scalar integer index (an int, or an integer array of shape `()`).
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        The vector of shape `(embedding_size,)` at row `x` of the table.
        """
        # With value checks on, an id outside the table raises (JAX would clamp it).
        return self.weight[check_indices(self, x, self.num_embeddings)]


def _sizes_of(
    weight: Any, num_embeddings: int | None, embedding_size: int | None
) -> tuple[int, int]:
    shape = tuple(jnp.shape(weight))
    if len(shape) != 2:
        raise ValueError(
            "Embedding(weight=...) must have shape (num_embeddings, embedding_size); "
            f"got shape {shape}."
        )
    given = (
        shape[0] if num_embeddings is None else num_embeddings,
        shape[1] if embedding_size is None else embedding_size,
    )
    if given != shape:
        raise ValueError(
            f"Embedding(weight=...) has shape {shape}, which disagrees with "
            f"num_embeddings={num_embeddings}, embedding_size={embedding_size}."
        )
    return given
