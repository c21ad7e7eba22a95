from typing import Any, Final, Generic, TypeVar

import numpy as np
from jaxtyping import Array, PRNGKeyArray

from .. import Module

_Layer = TypeVar("_Layer")

class WeightNorm(Module, Generic[_Layer]):
    # Not `Final`: a `Final` attribute cannot depend on a type variable.
    layer: _Layer
    g: Final[Array]
    weight_name: Final[str]
    axis: Final[int | None]
    def __init__(
        self, layer: _Layer, weight_name: str = "weight", axis: int | None = 0
    ) -> None: ...
    def __call__(
        self, x: Array | np.ndarray[Any, Any], *, key: PRNGKeyArray | None = None
    ) -> Array: ...
