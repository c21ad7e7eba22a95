import enum
from typing import Self, TypeVar

from jax import Array
from jax.typing import ArrayLike

_T = TypeVar("_T")

# To the checkers an enumeration is an `enum.Enum` (as Equinox declares it for
# them), so that a member declared as `red = "..."` reads as an item of its class,
# not as a `str`. At runtime the members are `EnumerationItem`s.
# Indexing takes an item and gives its message; an enumeration is not a sequence:
# iterating it, or indexing it by name (`Colour["red"]`), fails at run time, so both
# are rejected here (Equinox's stub rejects iteration too).
class _EnumerationMeta(enum.EnumMeta):
    def __getitem__(cls, item: Enumeration) -> str: ...  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
    __iter__: None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]
    def __len__(cls) -> int: ...
    def __instancecheck__(cls, value: object) -> bool: ...

# Members live in subclasses; mypy warns about an enum without any in a stub.
class Enumeration(enum.Enum, metaclass=_EnumerationMeta):  # type: ignore[misc]
    def __eq__(self, other: object, /) -> Array: ...  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
    def __ne__(self, other: object, /) -> Array: ...  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
    def error_if(self, token: _T, pred: ArrayLike) -> _T: ...
    def is_traced(self) -> bool: ...
    @classmethod
    def promote(cls, item: Enumeration) -> Self: ...
    @classmethod
    def where(cls, pred: ArrayLike, a: Self, b: Self) -> Self: ...
