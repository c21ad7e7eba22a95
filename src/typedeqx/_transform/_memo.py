"""The repeated-call fast path of `filter_jit`.

Flattening a model costs about a microsecond per module on every call: more than
the rest of `filter_jit`'s dispatch together. A call that passes the very same
model objects as the previous call (an inference or evaluation loop) would flatten
to the same leaves, so the memo keeps those leaves, with weak references to the
objects they came from, and skips the flatten.

This is sound only for arguments whose whole structure is immutable: modules,
tuples, named tuples, `None`. A list or dict could be changed in place between two
calls, so an argument containing one is flattened every time. Array arguments are
compared by type only (their values are what changes); Python scalars by value.
"""

import weakref
from collections.abc import Sequence
from typing import Any

import jax.tree_util as jtu

from .._core import BoundMethod, Module
from .._filters import is_array

_ARRAY, _SAME, _EQUAL = 0, 1, 2
_SCALARS = (int, float, bool, complex, str, bytes, type(None))

# One entry per positional argument: (kind, first traced leaf, end of its leaves).
Plan = tuple[tuple[int, int, int], ...]


def _immutable_structure(treedef: Any) -> bool:
    data = treedef.node_data()
    if data is None:
        return True
    node_type = data[0]
    if not (
        issubclass(node_type, (tuple, Module, BoundMethod)) or node_type is type(None)
    ):
        return False
    return all(_immutable_structure(child) for child in treedef.children())


def _weakrefable(x: Any) -> bool:
    try:
        weakref.ref(x)
    except TypeError:
        return False
    return True


def _kind(arg: Any) -> int | None:
    leaves, treedef = jtu.tree_flatten(arg)
    if len(leaves) == 1 and leaves[0] is arg:
        if is_array(arg):
            return _ARRAY
        if type(arg) in _SCALARS:
            return _EQUAL
        return _SAME if _weakrefable(arg) else None
    if arg is None:
        return _EQUAL
    if _immutable_structure(treedef) and _weakrefable(arg):
        return _SAME
    return None


def plan_memo(args: Sequence[Any]) -> Plan | None:
    """How to memoise calls with positional arguments shaped like `args`, or `None`
    when some argument cannot be memoised (then every call flattens)."""
    plan = []
    start = 0
    for arg in args:
        kind = _kind(arg)
        if kind is None:
            return None
        count = sum(map(is_array, jtu.tree_leaves(arg)))
        plan.append((kind, start, start + count))
        start += count
    return tuple(plan)


class Memo:
    """The previous call of a `filter_jit` function, ready to be matched."""

    __slots__ = ("kinds", "refs", "pieces", "compiled")

    def __init__(
        self, plan: Plan, args: Sequence[Any], dynamic: Sequence[Any], compiled: Any
    ) -> None:
        self.kinds = tuple(kind for kind, _, _ in plan)
        self.compiled = compiled
        refs: list[Any] = []
        pieces: list[Sequence[Any]] = []
        for (kind, start, stop), arg in zip(plan, args):
            if kind == _SAME:
                refs.append(weakref.ref(arg))
                pieces.append(dynamic[start:stop])
            elif kind == _ARRAY:
                refs.append(type(arg))
                pieces.append(())
            else:
                refs.append(arg)
                pieces.append(())
        self.refs = tuple(refs)
        self.pieces = tuple(pieces)

    def match(self, args: Sequence[Any]) -> tuple[Any, ...] | None:
        """The traced leaves of a call with `args`, if it repeats the memoised call
        up to the values of its array arguments; else `None`."""
        if len(args) != len(self.kinds):
            return None
        out: list[Any] = []
        for arg, kind, ref, piece in zip(args, self.kinds, self.refs, self.pieces):
            if kind == _SAME:
                if ref() is not arg:
                    return None
                out += piece
            elif kind == _ARRAY:
                if type(arg) is not ref:
                    return None
                out.append(arg)
            elif type(arg) is not type(ref) or arg != ref:
                return None
        return tuple(out)
