"""Field guards: the fields of a built Module cannot be assigned, not even with
`object.__setattr__`.

`Module.__setattr__` refuses assignment after `__init__`, but
`object.__setattr__(module, "weight", w)` skips it. Python does not skip a *data
descriptor* on the class, so each field gets a `FieldGuard`: assignment goes
through its `__set__`, which allows it only while the instance's `__init__` runs.
Everything that must hold for a built Module relies on this, `filter_jit`'s memo
first (it serves the leaves it saw last for an object it knows).

Reading costs nothing extra: `Module.__getattribute__` reads a field from the
instance `__dict__` before anything else, and unflattening writes the `__dict__`
directly. The guard's `__get__` only answers what the instance `__dict__` does not
hold: the class's default (`Linear.use_bias` on the class, or inside `__init__`
before assignment), or Python's `AttributeError`.

Fields stored in `__slots__`, and fields whose class attribute is something other
than their default (a property a subclass defines), get no guard.
"""

import dataclasses
import inspect
from typing import Any

from .._errors import FrozenFieldError

_MISSING = dataclasses.MISSING
_get = object.__getattribute__

# ids of instances whose `__init__` is running. An id is unique among live objects
# and set operations are atomic, so this is safe across threads and re-entrant.
initialising: set[int] = set()


class FieldGuard:
    """The class attribute of one field: the default for reads the instance
    `__dict__` cannot answer, and the gate for every assignment."""

    __slots__ = ("name", "default")

    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is not None:
            d = _get(obj, "__dict__")
            if self.name in d:
                return d[self.name]
        if self.default is _MISSING:
            what = (
                f"type object {owner.__name__!r}"
                if obj is None
                else (f"{type(obj).__name__!r} object")
            )
            raise AttributeError(f"{what} has no attribute {self.name!r}")
        return self.default

    def __set__(self, obj: Any, value: Any) -> None:
        if id(obj) not in initialising:
            raise FrozenFieldError(
                f"Cannot assign {type(obj).__name__}.{self.name}: modules are "
                "immutable after __init__, also through object.__setattr__ (typedeqx "
                "relies on it: filter_jit would keep using the old value). Make an "
                f"updated copy instead: `typedeqx.tree_at(lambda m: m.{self.name}, "
                "module, new_value)`."
            )
        _get(obj, "__dict__")[self.name] = value

    def __delete__(self, obj: Any) -> None:
        raise FrozenFieldError(
            f"Cannot delete {type(obj).__name__}.{self.name}: modules are immutable."
        )


def install_guards(cls: type, slotted: frozenset[str]) -> None:
    """Give each field of the dataclass `cls` its guard (see the module docstring
    for the fields that get none)."""
    for f in dataclasses.fields(cls):
        if f.name in slotted:
            continue
        current = inspect.getattr_static(cls, f.name, _MISSING)
        if isinstance(current, FieldGuard):
            continue  # inherited: it guards this class too
        if current is _MISSING or current is f.default:
            setattr(cls, f.name, FieldGuard(f.name, f.default))
