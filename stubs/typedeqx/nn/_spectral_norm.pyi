from typing import Any, Final, Generic, TypeVar

from jaxtyping import Array, Float, PRNGKeyArray

from ._stateful import State, StatefulLayer, StateIndex

_Layer = TypeVar("_Layer")

class SpectralNorm(StatefulLayer, Generic[_Layer]):
    layer: _Layer
    weight_name: Final[str]
    uv_index: Final[StateIndex[tuple[Float[Array, " u_size"], Float[Array, " v_size"]]]]
    num_power_iterations: Final[int]
    eps: Final[float]
    inference: Final[bool]
    def __init__(
        self,
        layer: _Layer,
        weight_name: str,
        num_power_iterations: int = 1,
        eps: float = 1e-12,
        inference: bool = False,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
    def __call__(
        self,
        x: Any,
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Any, State]: ...
