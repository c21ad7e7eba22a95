from typing import Any, Final

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Inexact, PRNGKeyArray

from .. import Module

class GRUCell(Module):
    weight_ih: Final[Inexact[Array, "3*hidden_size input_size"]]
    weight_hh: Final[Inexact[Array, "3*hidden_size hidden_size"]]
    bias: Final[Inexact[Array, "3*hidden_size"] | None]
    bias_n: Final[Inexact[Array, " hidden_size"] | None]
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
        input: Inexact[Array | np.ndarray[Any, Any], " input_size"],
        hidden: Inexact[Array | np.ndarray[Any, Any], " hidden_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...

class LSTMCell(Module):
    weight_ih: Final[Inexact[Array, "4*hidden_size input_size"]]
    weight_hh: Final[Inexact[Array, "4*hidden_size hidden_size"]]
    bias: Final[Inexact[Array, "4*hidden_size"] | None]
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
        input: Inexact[Array | np.ndarray[Any, Any], " input_size"],
        hidden: tuple[
            Inexact[Array | np.ndarray[Any, Any], " hidden_size"],
            Inexact[Array | np.ndarray[Any, Any], " hidden_size"],
        ],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Array, Array]: ...
