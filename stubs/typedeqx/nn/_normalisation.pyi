from collections.abc import Sequence
from typing import Any, Final, TypeVar, overload

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .. import Module

_S = TypeVar("_S")

class LayerNorm(Module):
    shape: Final[tuple[int, ...]]
    eps: Final[float]
    use_weight: Final[bool]
    use_bias: Final[bool]
    weight: Final[Float[Array, "*shape"] | None]
    bias: Final[Float[Array, "*shape"] | None]
    def __init__(
        self,
        shape: int | Sequence[int],
        eps: float = 1e-5,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        elementwise_affine: bool | None = None,
    ) -> None: ...
    @overload
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], "*shape"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...
    @overload
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], "*shape"],
        state: _S,
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Array, _S]: ...

class RMSNorm(Module):
    shape: Final[tuple[int, ...]]
    eps: Final[float]
    use_weight: Final[bool]
    use_bias: Final[bool]
    weight: Final[Float[Array, "*shape"] | None]
    bias: Final[Float[Array, "*shape"] | None]
    def __init__(
        self,
        shape: int | Sequence[int],
        eps: float = 1e-5,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None: ...
    @overload
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], "*shape"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...
    @overload
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], "*shape"],
        state: _S,
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Array, _S]: ...

class GroupNorm(Module):
    groups: Final[int]
    channels: Final[int | None]
    eps: Final[float]
    channelwise_affine: Final[bool]
    weight: Final[Float[Array, " channels"] | None]
    bias: Final[Float[Array, " channels"] | None]
    def __init__(
        self,
        groups: int,
        channels: int | None = None,
        eps: float = 1e-5,
        channelwise_affine: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None: ...
    @overload
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], " channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Array: ...
    @overload
    def __call__(
        self,
        x: Float[Array | np.ndarray[Any, Any], " channels *spatial"],
        state: _S,
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Array, _S]: ...
