"""The fast path of `filter_jit` for loops: skip flattening objects it has seen.

Flattening a model costs about a microsecond per module on every call: more than
the rest of `filter_jit`'s dispatch together. Two loops pass objects whose leaves
`filter_jit` already knows:

- an evaluation loop passes the very same model as the previous call;
- a training loop passes the model and optimiser state the previous call
  *returned*: `model, opt_state, loss = step(model, opt_state, x, y)`.

So each wrapper keeps a small table of *known* objects, the previous call's
arguments and outputs: `id(obj) -> (weak reference, array leaves, token)`. The
token stands for the object's structure and non-array leaves: an output's token is
its position in a given output structure (a [`TreeSplit`][]), so that two outputs
at the same position of the same structure share it. A call whose arguments are
all known, with the tokens the previous call's arguments had, has the previous
call's layout and static part, and its array leaves are the known ones: no flatten.
A memoised call records its outputs only if its arguments were outputs themselves
(`OutputToken`s): an evaluation loop that returns Modules never passes them back.

This is sound only for objects whose whole structure is immutable: modules,
tuples, named tuples, `None`. A list or dict could be changed in place between two
calls, so an argument containing one is flattened every time. Tuples and named
tuples cannot be weakly referenced; the generated matcher looks into them and
checks their types and lengths. Array arguments are compared by type only (their
values are what changes), Python scalars by value. An entry dies with its object
(a weak-reference callback removes it), and the table holds one call's objects.

Objects under construction are never known: `filter_jit` neither matches nor
records while any Module's `__init__` runs. A built Module cannot change, not even
through `object.__setattr__` (see `_module/_guard.py` and README.md here).
"""

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax.tree_util as jtu

from .._filters import is_array
from .._module import BoundMethod, Module

_ARRAY, _SAME, _EQUAL = 0, 1, 2
_SCALARS = (int, float, bool, complex, str, bytes, type(None))

# (kind, path from the argument tuple, first traced leaf, end of its leaves)
Unit = tuple[int, tuple[int, ...], int, int]
# (units, containers): containers are (path, type, length) of tuples looked into
Plan = tuple[tuple[Unit, ...], tuple[tuple[tuple[int, ...], type, int], ...]]
Entry = tuple[Any, tuple[Any, ...], object]


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


def _is_tuple_node(x: Any) -> bool:
    # JAX flattens a tuple and a named tuple into their elements, in order.
    return type(x) is tuple or (isinstance(x, tuple) and hasattr(type(x), "_fields"))


def _kind(x: Any) -> int | None:
    leaves, treedef = jtu.tree_flatten(x)
    if len(leaves) == 1 and leaves[0] is x:
        if is_array(x):
            return _ARRAY
        if type(x) in _SCALARS:
            return _EQUAL
        return _SAME if _weakrefable(x) else None
    if x is None:
        return _EQUAL
    if _immutable_structure(treedef) and _weakrefable(x):
        return _SAME
    return None


def _units(x: Any, path: tuple[int, ...], start: int, plan: list[Any]) -> int | None:
    """Append the units of `x` to `plan`; the end of its traced leaves, or `None`
    when it cannot be memoised."""
    if _is_tuple_node(x):
        plan[1].append((path, type(x), len(x)))
        for i, child in enumerate(x):
            end = _units(child, (*path, i), start, plan)
            if end is None:
                return None
            start = end
        return start
    kind = _kind(x)
    if kind is None:
        return None
    stop = start + sum(map(is_array, jtu.tree_leaves(x)))
    plan[0].append((kind, path, start, stop))
    return stop


def plan_memo(args: Sequence[Any]) -> Plan | None:
    """How to memoise calls with positional arguments shaped like `args`, or `None`
    when some argument cannot be memoised (then every call flattens)."""
    plan: list[Any] = [[], []]
    if _units(tuple(args), (), 0, plan) is None:
        return None
    return tuple(plan[0]), tuple(plan[1][1:])  # the argument tuple is not checked


def _name(path: tuple[int, ...]) -> str:
    return "a" + "_".join(map(str, path)) if path else "args"


class Known:
    """The known objects of one wrapper: `id -> (weak reference, leaves, token)`.

    One dict for the wrapper's life, refilled in place. Each entry's weak
    reference has `table.pop` bound to the object's `id` as its callback, so the
    entry (and the arrays it holds) goes when its object dies, without a Python
    frame. The key popped is always the dying object's own: no other live object
    can have its `id`."""

    __slots__ = ("table", "forget")

    def __init__(self) -> None:
        self.table: dict[int, Entry] = {}
        self.forget = self.table.pop

    def replace(self, entries: dict[int, Entry]) -> None:
        """Make `entries` (one call's objects) the table."""
        table = self.table
        if entries is not table:
            table.clear()
            table.update(entries)


class OutputToken:
    """The token of an object a compiled call returned: one per position of an
    output structure. A call whose arguments have such tokens is fed the outputs
    of an earlier call (a training loop), so its own outputs are worth recording."""

    __slots__ = ()


class _Fresh:
    """Tokens for objects seen for the first time: a new one each."""

    __slots__ = ()

    def __getitem__(self, index: int) -> object:
        return object()


FRESH = _Fresh()
Maker = Callable[..., tuple[Any, ...]]
Matcher = Callable[..., tuple[tuple[Any, ...], dict[int, Entry]] | None]


@functools.cache
def memo_functions(plan: Plan) -> tuple[Maker, Matcher]:
    """Straight-line code for one plan, generated once per plan:

    - `make(args, dynamic, known, new, out)` records objects whose leaves are
        known: the entry of each object of `args` goes in the dict `out` (its
        known entry, or a new one with token `new[i]` and leaves from `dynamic`).
        Returns the tokens of the units, for `match`.
    - `match(args, table, tokens) -> (dynamic, entries) | None`: the traced leaves
        of a call whose units match `tokens` (else `None`), and the entries of its
        objects, keyed by `id` (`table` itself when it holds only those).
    """
    units, containers = plan
    top = sorted({u[1][0] for u in units} | {c[0][0] for c in containers})
    unpack = [f"    {''.join(f'a{i}, ' for i in range(len(top)))}= args"] if top else []
    make_body = ["    table = known.table", "    forget = known.forget", *unpack]
    match_body = [f"    if len(args) != {len(top)}:", "        return None", *unpack]
    for k, (path, tp, length) in enumerate(containers):
        v = _name(path)
        assign = f"    {v} = {_name(path[:-1])}[{path[-1]}]"
        test = f"type({v}) is not _t{k}" + (
            f" or len({v}) != {length}" if tp is tuple else ""
        )
        make_body.append(assign)
        match_body += [assign, f"    if {test}:", "        return None"]
    tokens, parts, items, entries = [], [], [], []
    for i, (kind, path, start, stop) in enumerate(units):
        v = _name(path)
        if len(path) > 1:
            assign = f"    {v} = {_name(path[:-1])}[{path[-1]}]"
            make_body.append(assign)
            match_body.append(assign)
        if kind == _SAME:
            make_body += [
                f"    e = table.get(id({v}))",
                f"    if e is None or e[0]() is not {v}:",
                # a new entry: its weak reference's callback drops it, by `id`
                f"        k = id({v})",
                f"        e = _ref({v}, _partial(forget, k)), "
                f"dynamic[{start}:{stop}], new[{i}]",
                f"    out[id({v})] = e",
                f"    t{i} = e[2]",
            ]
            match_body += [
                f"    e{i} = table.get(id({v}))",
                f"    if e{i} is None or e{i}[2] is not tokens[{i}] "
                f"or e{i}[0]() is not {v}:",
                "        return None",
            ]
            parts.append(f"e{i}[1]")
            items.append(f"*e{i}[1]")
            entries.append(f"id({v}): e{i}")
        elif kind == _ARRAY:
            make_body.append(f"    t{i} = type({v})")
            match_body += [
                f"    if type({v}) is not tokens[{i}]:",
                "        return None",
            ]
            parts.append(f"({v},)")
            items.append(v)
        else:
            make_body.append(f"    t{i} = {v}")
            match_body += [
                f"    if type({v}) is not type(tokens[{i}]) or {v} != tokens[{i}]:",
                "        return None",
            ]
        tokens.append(f"t{i}, ")
    # One tuple of every traced leaf: two parts are concatenated, more are
    # unpacked into one new tuple (no intermediate tuples).
    leaves = " + ".join(parts) if len(parts) <= 2 else f"({', '.join(items)},)"
    source = "\n".join(
        [
            "def make(args, dynamic, known, new, out):",
            *make_body,
            f"    return ({''.join(tokens)})",
            "def match(args, table, tokens):",
            *match_body,
            # Every unit was found in `table`: if it holds no more entries than
            # there are units, it is this call's table already (a repeated call).
            f"    if len(table) == {len(entries)}:",
            f"        return {leaves or '()'}, table",
            f"    return {leaves or '()'}, {{{', '.join(entries)}}}",
        ]
    )
    scope: dict[str, Any] = {f"_t{k}": c[1] for k, c in enumerate(containers)}
    scope.update(_ref=weakref.ref, _partial=functools.partial)
    exec(compile(source, "<typedeqx filter_jit memo>", "exec"), scope)
    return scope["make"], scope["match"]
