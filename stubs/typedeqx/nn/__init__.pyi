from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Literal, TypeAlias, TypeVar, overload

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .. import Module
from ._activations import PReLU as PReLU
from ._adaptive_pool import AdaptiveAvgPool1d as AdaptiveAvgPool1d
from ._adaptive_pool import AdaptiveAvgPool2d as AdaptiveAvgPool2d
from ._adaptive_pool import AdaptiveAvgPool3d as AdaptiveAvgPool3d
from ._adaptive_pool import AdaptiveMaxPool1d as AdaptiveMaxPool1d
from ._adaptive_pool import AdaptiveMaxPool2d as AdaptiveMaxPool2d
from ._adaptive_pool import AdaptiveMaxPool3d as AdaptiveMaxPool3d
from ._adaptive_pool import AdaptivePool as AdaptivePool
from ._attention import MultiheadAttention as MultiheadAttention
from ._batch_norm import BatchNorm as BatchNorm
from ._conv import Conv as Conv
from ._conv import Conv1d as Conv1d
from ._conv import Conv2d as Conv2d
from ._conv import Conv3d as Conv3d
from ._conv_transpose import ConvTranspose as ConvTranspose
from ._conv_transpose import ConvTranspose1d as ConvTranspose1d
from ._conv_transpose import ConvTranspose2d as ConvTranspose2d
from ._conv_transpose import ConvTranspose3d as ConvTranspose3d
from ._dropout import Dropout as Dropout
from ._embedding import Embedding as Embedding
from ._normalisation import GroupNorm as GroupNorm
from ._normalisation import LayerNorm as LayerNorm
from ._normalisation import RMSNorm as RMSNorm
from ._pool import AvgPool1d as AvgPool1d
from ._pool import AvgPool2d as AvgPool2d
from ._pool import AvgPool3d as AvgPool3d
from ._pool import MaxPool1d as MaxPool1d
from ._pool import MaxPool2d as MaxPool2d
from ._pool import MaxPool3d as MaxPool3d
from ._pool import Pool as Pool
from ._rnn import GRUCell as GRUCell
from ._rnn import LSTMCell as LSTMCell
from ._rotary import RotaryPositionalEmbedding as RotaryPositionalEmbedding
from ._shared import Shared as Shared
from ._spectral_norm import SpectralNorm as SpectralNorm
from ._stateful import State as State
from ._stateful import StatefulLayer as StatefulLayer
from ._stateful import StateIndex as StateIndex
from ._stateful import delete_init_state as delete_init_state
from ._stateful import make_with_state as make_with_state
from ._weight_norm import WeightNorm as WeightNorm

# Layers take JAX or NumPy arrays.
_ArrayIn: TypeAlias = Array | np.ndarray[Any, Any]
_A = TypeVar("_A", bound=_ArrayIn)
_T = TypeVar("_T")

# Fields of the prebuilt layers are `Final`: a built module is immutable, so
# `linear.weight = w` is an error (make a copy with `typedeqx.tree_at`).

class Linear(Module):
    weight: Final[Float[Array, "out_features in_features"]]
    bias: Final[Float[Array, " out_features"] | None]
    in_features: Final[int | Literal["scalar"]]
    out_features: Final[int | Literal["scalar"]]
    use_bias: Final[bool]
    def __init__(
        self,
        in_features: int | Literal["scalar"],
        out_features: int | Literal["scalar"],
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None: ...
    def __call__(
        self,
        x: Float[_ArrayIn, " in_features"] | Float[_ArrayIn, ""],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, " out_features"] | Float[Array, ""]: ...

class Identity(Module):
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def __call__(self, x: _A, *, key: PRNGKeyArray | None = None) -> _A: ...

class MLP(Module):
    layers: Final[tuple[Linear, ...]]
    activation: Final[Callable[..., Any]]
    final_activation: Final[Callable[..., Any]]
    use_bias: Final[bool]
    use_final_bias: Final[bool]
    in_size: Final[int | Literal["scalar"]]
    out_size: Final[int | Literal["scalar"]]
    width_size: Final[int]
    depth: Final[int]
    scan: Final[bool]
    def __init__(
        self,
        in_size: int | Literal["scalar"],
        out_size: int | Literal["scalar"],
        width_size: int,
        depth: int,
        activation: Callable[..., Any] = ...,
        final_activation: Callable[..., Any] = ...,
        use_bias: bool = True,
        use_final_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        scan: bool = False,
        key: PRNGKeyArray,
    ) -> None: ...
    def __call__(
        self,
        x: Float[_ArrayIn, " in_size"] | Float[_ArrayIn, ""],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, " out_size"] | Float[Array, ""]: ...

class Lambda(Module):
    fn: Final[Callable[..., Any]]
    def __init__(self, fn: Callable[..., Any]) -> None: ...
    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any: ...

class Sequential(StatefulLayer):
    layers: Final[tuple[Callable[..., Any], ...]]
    def __init__(self, layers: Sequence[Callable[..., Any]]) -> None: ...
    def is_stateful(self) -> bool: ...
    @overload
    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any: ...
    @overload
    def __call__(
        self, x: Any, state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Any, State]: ...
    @overload
    def __getitem__(self, i: int) -> Callable[..., Any]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequential: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Callable[..., Any]]: ...

def inference_mode(model: _T, value: bool = True) -> _T: ...
