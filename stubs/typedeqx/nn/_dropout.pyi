from typing import Any, Final

import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .. import Module

class Dropout(Module):
    p: Final[float | Array]
    inference: Final[bool]
    def __init__(
        self,
        p: float | Array = 0.5,
        inference: bool = False,
        *,
        deterministic: bool | None = None,
    ) -> None: ...
    @property
    def deterministic(self) -> bool: ...
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], "*shape"],
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
    ) -> Array: ...
