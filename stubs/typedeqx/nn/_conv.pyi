from collections.abc import Sequence
from typing import Any, Final, TypeAlias

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Inexact, PRNGKeyArray

from .. import Module

_ArrayIn: TypeAlias = Array | np.ndarray[Any, Any]
_Padding: TypeAlias = str | tuple[tuple[int, int], ...]
_PaddingLike: TypeAlias = str | int | Sequence[int] | Sequence[tuple[int, int]]

class Conv(Module):
    num_spatial_dims: Final[int]
    weight: Final[Inexact[Array, "out_channels in_channels//groups *kernel_size"]]
    bias: Final[Inexact[Array, " out_channels *bias_spatial"] | None]
    in_channels: Final[int]
    out_channels: Final[int]
    kernel_size: Final[tuple[int, ...]]
    stride: Final[tuple[int, ...]]
    padding: Final[_Padding]
    dilation: Final[tuple[int, ...]]
    groups: Final[int]
    use_bias: Final[bool]
    padding_mode: Final[str]
    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
    def __call__(
        self,
        x: Inexact[_ArrayIn, " in_channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " out_channels *out_spatial"]: ...

class Conv1d(Conv):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: _PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...

class Conv2d(Conv):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (1, 1),
        padding: _PaddingLike = (0, 0),
        dilation: int | Sequence[int] = (1, 1),
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...

class Conv3d(Conv):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (1, 1, 1),
        padding: _PaddingLike = (0, 0, 0),
        dilation: int | Sequence[int] = (1, 1, 1),
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
