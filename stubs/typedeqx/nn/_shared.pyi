from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .. import Module

_T = TypeVar("_T")

class SharedNode: ...

class Shared(Module, Generic[_T]):
    # Not `Final`: a `Final` attribute cannot depend on a type variable.
    pytree: _T
    where: Callable[[_T], Any]
    get: Callable[[_T], Any]
    def __init__(
        self, pytree: _T, where: Callable[[_T], Any], get: Callable[[_T], Any]
    ) -> None: ...
    def __call__(self) -> _T: ...
