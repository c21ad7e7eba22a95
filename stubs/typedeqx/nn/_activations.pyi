from typing import Any, Final

import numpy as np
from jaxtyping import Array, ArrayLike, Float, Shaped

from .. import Module

class PReLU(Module):
    negative_slope: Final[Shaped[Array, "*slope"]]
    def __init__(self, init_alpha: float | ArrayLike | None = 0.25) -> None: ...
    def __call__(self, x: Float[Array | np.ndarray[Any, Any], "*shape"]) -> Array: ...
