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

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax.tree_util as jtu

from .._module import BoundMethod, Module
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


Matcher = Callable[..., tuple[Any, ...] | None]
Maker = Callable[..., tuple[tuple[Any, ...], tuple[Any, ...]]]


@functools.cache
def memo_functions(plan: Plan) -> tuple[Maker, Matcher]:
    """Straight-line code for one plan, generated once per plan:

    - `make(args, dynamic) -> (refs, pieces)` remembers a call: a weak reference
        (or the type, or the value) per argument, and each argument's traced leaves;
    - `match(args, refs, pieces)` gives the traced leaves of a new call if it
        repeats the remembered one up to the values of its array arguments, else
        `None`.
    """
    n = len(plan)
    unpack = f"    {''.join(f'a{i}, ' for i in range(n))}= args" if n else "    pass"
    refs, pieces, tests, parts = [], [], [], []
    for i, (kind, start, stop) in enumerate(plan):
        if kind == _SAME:
            refs.append(f"_ref(a{i})")
            pieces.append(f"dynamic[{start}:{stop}]")
            tests.append(f"refs[{i}]() is not a{i}")
            parts.append(f"pieces[{i}]")
        elif kind == _ARRAY:
            refs.append(f"type(a{i})")
            pieces.append("()")
            tests.append(f"type(a{i}) is not refs[{i}]")
            parts.append(f"(a{i},)")
        else:
            refs.append(f"a{i}")
            pieces.append("()")
            tests.append(f"type(a{i}) is not type(refs[{i}]) or a{i} != refs[{i}]")
    source = "\n".join(
        [
            "def make(args, dynamic):",
            unpack,
            f"    return ({''.join(r + ', ' for r in refs)}), "
            f"({''.join(p + ', ' for p in pieces)})",
            "def match(args, refs, pieces):",
            f"    if len(args) != {n}:",
            "        return None",
            unpack,
            *[f"    if {test}:\n        return None" for test in tests],
            f"    return {' + '.join(parts) or '()'}",
        ]
    )
    scope: dict[str, Any] = {"_ref": weakref.ref}
    exec(compile(source, "<typedeqx filter_jit memo>", "exec"), scope)
    return scope["make"], scope["match"]
