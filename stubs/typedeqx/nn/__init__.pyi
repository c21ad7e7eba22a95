from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Literal, TypeAlias, TypeVar, overload

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .. import Module

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

class Sequential(Module):
    layers: Final[tuple[Callable[..., Any], ...]]
    def __init__(self, layers: Sequence[Callable[..., Any]]) -> None: ...
    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any: ...
    @overload
    def __getitem__(self, i: int) -> Callable[..., Any]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequential: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Callable[..., Any]]: ...

def inference_mode(model: _T, value: bool = True) -> _T: ...
