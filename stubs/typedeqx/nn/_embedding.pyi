from typing import Any, Final

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, Integer, PRNGKeyArray

from .. import Module

class Embedding(Module):
    num_embeddings: Final[int]
    embedding_size: Final[int]
    weight: Final[Float[Array, "num_embeddings embedding_size"]]
    def __init__(
        self,
        num_embeddings: int | None = None,
        embedding_size: int | None = None,
        weight: Float[Array, "num_embeddings embedding_size"] | None = None,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray | None = None,
    ) -> None: ...
    def __call__(
        self,
        x: Integer[Array | np.ndarray[Any, Any], ""] | int | np.integer[Any],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...
