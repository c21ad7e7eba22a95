"""Compiled code shared between wrappers of the same function.

`filter_jit(f)` and `filter_pmap(f)` compile per wrapper only if every wrapper
keeps its own cache; a loop that writes `filter_jit(f)(x)`, or wraps a fresh
`filter_grad(f)` each step, would then trace and compile on every iteration. So
the caches live here, keyed by what determines the compiled code: the *static*
part of the wrapped callable (its tree structure and non-array leaves, which for a
plain function is the function object itself), the leaf types, and the
transformation's own settings. The arrays a callable holds (a module's weights)
are never part of a key: wrappers pass them to the compiled function as inputs,
so two models of the same structure share code and neither is baked into it.

Keys hold their static leaves strongly, so the registry is a bounded LRU: it never
grows past `MAX_ENTRIES`, and an entry that falls out is only recompiled, never
wrong.
"""

import collections
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from ._split import TreeSplit, split_tree

_V = TypeVar("_V")

MAX_ENTRIES = 256


def freeze(value: Any) -> Any:
    """A hashable stand-in for keyword-argument values: dicts become sorted
    tuples of items, lists tuples; everything else is returned as it is."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, freeze(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    return value


def hashable_or_none(key: Any) -> Hashable | None:
    """`key` if it can be hashed, else `None` (meaning: do not share)."""
    try:
        hash(key)
    except TypeError:
        return None
    hashable: Hashable = key
    return hashable


def fun_key(fun: Any) -> tuple[list[Any], TreeSplit, Hashable | None]:
    """Split a callable PyTree into its arrays and the rest.

    **Arguments:**

    - `fun`: the callable (a function, a module, a bound method, a wrapper).

    **Returns:**

    `(arrays, split, key)`: the arrays `fun` holds, its [`TreeSplit`][], and a
    hashable key for its static part (structure, non-array leaves and their
    types), or `None` when a non-array leaf cannot be hashed.
    """
    arrays, split = split_tree(fun)
    key = hashable_or_none((split, tuple(map(type, split.static))))
    return arrays, split, key


class SharedCache(Generic[_V]):
    """A bounded LRU registry from keys to per-key state."""

    def __init__(self) -> None:
        self._entries: collections.OrderedDict[Hashable, _V] = collections.OrderedDict()

    def get(self, key: Hashable | None, make: Callable[[], _V]) -> _V:
        """The state for `key`, made by `make()` on first use; a fresh, unshared
        one for `None`. Called once per wrapper, never per call."""
        if key is None:
            return make()
        entries = self._entries
        value = entries.pop(key, None)
        if value is None:
            value = make()
            if len(entries) >= MAX_ENTRIES:
                entries.popitem(last=False)
        entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry (the next call of each wrapper compiles again)."""
        self._entries.clear()
