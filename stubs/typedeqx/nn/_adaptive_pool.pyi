from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias

import numpy as np
from jaxtyping import Array, PRNGKeyArray, Shaped

from .. import Module

_ArrayIn: TypeAlias = Array | np.ndarray[Any, Any]

class AdaptivePool(Module):
    target_shape: Final[tuple[int, ...]]
    operation: Final[Callable[[Array], Array]]
    def __init__(
        self,
        target_shape: int | Sequence[int],
        num_spatial_dims: int,
        operation: Callable[[Array], Array],
    ) -> None: ...
    def __call__(
        self,
        x: Shaped[_ArrayIn, " channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Shaped[Array, " channels *target_shape"]: ...

class AdaptiveAvgPool1d(AdaptivePool):
    def __init__(self, target_shape: int | Sequence[int]) -> None: ...

class AdaptiveAvgPool2d(AdaptivePool):
    def __init__(self, target_shape: int | Sequence[int]) -> None: ...

class AdaptiveAvgPool3d(AdaptivePool):
    def __init__(self, target_shape: int | Sequence[int]) -> None: ...

class AdaptiveMaxPool1d(AdaptivePool):
    def __init__(self, target_shape: int | Sequence[int]) -> None: ...

class AdaptiveMaxPool2d(AdaptivePool):
    def __init__(self, target_shape: int | Sequence[int]) -> None: ...

class AdaptiveMaxPool3d(AdaptivePool):
    def __init__(self, target_shape: int | Sequence[int]) -> None: ...
