from typing import Any, Final

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .. import Module

class GRUCell(Module):
    weight_ih: Final[Float[Array, "3*hidden_size input_size"]]
    weight_hh: Final[Float[Array, "3*hidden_size hidden_size"]]
    bias: Final[Float[Array, "3*hidden_size"] | None]
    bias_n: Final[Float[Array, " hidden_size"] | None]
    input_size: Final[int]
    hidden_size: Final[int]
    use_bias: Final[bool]
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
    def __call__(
        self,
        input: Float[Array | np.ndarray[Any, Any], " input_size"],
        hidden: Float[Array | np.ndarray[Any, Any], " hidden_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...

class LSTMCell(Module):
    weight_ih: Final[Float[Array, "4*hidden_size input_size"]]
    weight_hh: Final[Float[Array, "4*hidden_size hidden_size"]]
    bias: Final[Float[Array, "4*hidden_size"] | None]
    input_size: Final[int]
    hidden_size: Final[int]
    use_bias: Final[bool]
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
    def __call__(
        self,
        input: Float[Array | np.ndarray[Any, Any], " input_size"],
        hidden: tuple[
            Float[Array | np.ndarray[Any, Any], " hidden_size"],
            Float[Array | np.ndarray[Any, Any], " hidden_size"],
        ],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Array, Array]: ...
