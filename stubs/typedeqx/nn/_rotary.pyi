from typing import Any, Final

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .. import Module

class RotaryPositionalEmbedding(Module):
    embedding_size: Final[int]
    theta: Final[float]
    dtype: Final[Any]
    def __init__(
        self,
        embedding_size: int,
        theta: float = 10_000.0,
        dtype: DTypeLike | None = None,
    ) -> None: ...
    @staticmethod
    def rotate_half(x: Float[Array, "seq_length embedding_size"]) -> Array: ...
    @staticmethod
    def precompute_freqs_cis(
        embedding_size: int, end: int, theta: float, dtype: DTypeLike
    ) -> tuple[Array, Array]: ...
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], "seq embedding_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...
