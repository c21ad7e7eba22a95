from typing import Any, Final, overload

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, Integer, PRNGKeyArray

from .. import Module

class Embedding(Module):
    num_embeddings: Final[int]
    embedding_size: Final[int]
    weight: Final[Float[Array, "num_embeddings embedding_size"]]
    # Either sizes and a key, to generate the table, or the table itself. Every
    # runtime parameter is optional, so the overloads say which combinations work
    # (anything else is a ValueError at run time).
    @overload
    def __init__(
        self,
        num_embeddings: int,
        embedding_size: int,
        weight: None = None,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
    @overload
    def __init__(
        self,
        num_embeddings: int | None,
        embedding_size: int | None,
        weight: Float[Array, "num_embeddings embedding_size"],
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        num_embeddings: int | None = None,
        embedding_size: int | None = None,
        *,
        weight: Float[Array, "num_embeddings embedding_size"],
        dtype: DTypeLike | None = None,
        key: PRNGKeyArray | None = None,
    ) -> None: ...
    def __call__(
        self,
        x: Integer[Array | np.ndarray[Any, Any], ""] | int | np.integer[Any],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...
