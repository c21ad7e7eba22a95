from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias

import numpy as np
from jaxtyping import Array, Inexact, Num, PRNGKeyArray, Shaped

from .. import Module

_ArrayIn: TypeAlias = Array | np.ndarray[Any, Any]
_PadLike: TypeAlias = int | Sequence[int] | Sequence[tuple[int, int]]

# The rank contract of a pooling layer's input (a `Rank` from the contracts).
POOL_RANK: Final[Any]

class Pool(Module):
    init: Final[int | float | Array]
    operation: Final[Callable[[Array, Array], Array]]
    num_spatial_dims: Final[int]
    kernel_size: Final[tuple[int, ...]]
    stride: Final[tuple[int, ...]]
    padding: Final[tuple[tuple[int, int], ...]]
    use_ceil: Final[bool]
    def __init__(
        self,
        init: int | float | Array,
        operation: Callable[[Array, Array], Array],
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...
    def __call__(
        self,
        x: Shaped[_ArrayIn, " channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Shaped[Array, " channels *out_spatial"]: ...

class MaxPool1d(Pool):
    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...

class MaxPool2d(Pool):
    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...

class MaxPool3d(Pool):
    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...

class AvgPool1d(Pool):
    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...
    def __call__(
        self,
        x: Num[_ArrayIn, " channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " channels *out_spatial"]: ...

class AvgPool2d(Pool):
    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...
    def __call__(
        self,
        x: Num[_ArrayIn, " channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " channels *out_spatial"]: ...

class AvgPool3d(Pool):
    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PadLike = 0,
        use_ceil: bool = False,
    ) -> None: ...
    def __call__(
        self,
        x: Num[_ArrayIn, " channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " channels *out_spatial"]: ...
