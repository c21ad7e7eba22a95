from collections.abc import Callable, Hashable
from typing import Any, TypeVar, overload

from jax.typing import ArrayLike
from typing_extensions import ParamSpec

_T = TypeVar("_T")
_P = ParamSpec("_P")

@overload
def assert_max_traces(
    fn: Callable[_P, _T], *, max_traces: int | None
) -> Callable[_P, _T]: ...
@overload
def assert_max_traces(
    fn: None = None, *, max_traces: int | None
) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]: ...
def get_num_traces(fn: Callable[..., Any]) -> int: ...
def breakpoint_if(pred: ArrayLike, **kwargs: Any) -> Any: ...
def backward_nan(x: _T, name: str | None = None, terminate: bool = True) -> _T: ...
def store_dce(x: _T, name: Hashable = None) -> _T: ...
def inspect_dce(name: Hashable = None) -> None: ...
def announce_transform(
    x: _T,
    name: str | None = None,
    intermediates: bool = False,
    announce: Callable[[str], Any] = ...,
) -> _T: ...
