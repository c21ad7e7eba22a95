from collections.abc import Hashable, Sequence
from typing import Any, Final, Literal, TypeAlias

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ._stateful import State, StatefulLayer, StateIndex

_ArrayIn: TypeAlias = Array | np.ndarray[Any, Any]
_Stats: TypeAlias = tuple[Float[Array, " input_size"], Float[Array, " input_size"]]

class BatchNorm(StatefulLayer):
    weight: Final[Float[Array, " input_size"] | None]
    bias: Final[Float[Array, " input_size"] | None]
    ema_first_time_index: Final[StateIndex[Bool[Array, ""]] | None]
    ema_state_index: Final[StateIndex[_Stats] | None]
    batch_counter: Final[StateIndex[Int[Array, ""]] | None]
    batch_state_index: Final[StateIndex[_Stats] | None]
    axis_name: Final[Hashable | Sequence[Hashable]]
    inference: Final[bool]
    input_size: Final[int]
    eps: Final[float]
    channelwise_affine: Final[bool]
    momentum: Final[float]
    mode: Final[Literal["ema", "batch"]]
    def __init__(
        self,
        input_size: int,
        axis_name: Hashable | Sequence[Hashable],
        eps: float = 1e-5,
        channelwise_affine: bool = True,
        momentum: float = 0.99,
        inference: bool = False,
        dtype: DTypeLike | None = None,
        mode: Literal["ema", "batch", "legacy"] = "legacy",
    ) -> None: ...
    def __call__(
        self,
        x: Float[_ArrayIn, " input_size *rest"],
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Float[Array, " input_size *rest"], State]: ...
