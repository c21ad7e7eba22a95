"""The output side of `filter_jit`: straight-line code that rebuilds the output tree.

`jax.jit` returns the output's arrays; the rest of the output (its tree structure
and non-array leaves) is fixed for a given compiled function. Putting the tree back
together with `jax.tree_util.tree_unflatten` walks the structure in C++ and calls a
Python unflatten function for every Module in it: in a training loop that returns a
model and its optimiser state, that is most of `filter_jit`'s own time. So each
output structure gets a Python function generated once, which builds the whole tree
in one frame: for a Module, a new instance and the entries of its `__dict__`;
for tuples, named tuples, lists and dicts, their literal or constructor. Nodes of
any other type are built by `tree_unflatten` on their subtree.

The generated function is checked once against `tree_unflatten` on the output it
was made from (same structure, same leaves); a mismatch keeps `tree_unflatten`.
Outputs of arrays in tuples, lists and dicts only ([`is_plain`][]) skip all this:
`jax.jit` returns them as they are.
"""

from collections.abc import Callable, Sequence
from typing import Any

import jax.tree_util as jtu

from .._module import Module, instance_dict
from ._memo import OutputToken, memo_functions, plan_memo
from ._split import Packed, TreeSplit

Builder = Callable[[Sequence[Any]], Any]
_new = object.__new__
_flatten_one = jtu.default_registry.flatten_one_level_with_keys
_CONTAINERS = (tuple, list, dict, type(None))
_PLAIN_NODES = _CONTAINERS


class _Emitter:
    """Writes the statements of one builder while walking a sample output."""

    def __init__(self, dynamic_position: dict[int, int], static: Sequence[Any]):
        self.dynamic_position = dynamic_position  # leaf index -> array index
        self.static_iter = iter(static)
        self.leaf = 0  # index of the next leaf, in flattening order
        self.lines: list[str] = []
        self.scope: dict[str, Any] = {"_new": _new, "_tuple_new": tuple.__new__}
        self.names: dict[int, str] = {}  # id of a constant -> its name in `scope`

    def constant(self, value: Any) -> str:
        name = self.names.get(id(value))
        if name is None:
            name = self.names[id(value)] = f"_c{len(self.scope)}"
            self.scope[name] = value
        return name

    def node(self, treedef: Any, sample: Any) -> str:
        """An expression for the subtree `treedef`, whose built form is `sample`."""
        data = treedef.node_data()
        if data is None:  # a leaf
            index, self.leaf = self.leaf, self.leaf + 1
            position = self.dynamic_position.get(index)
            if position is None:
                return self.constant(next(self.static_iter))
            return f"a[{position}]"
        node_type, aux = data
        children = treedef.children()
        if node_type is type(None):
            return "None"
        if issubclass(node_type, Module) and type(sample) is node_type:
            built = self.module(node_type, children, sample)
            if built is not None:
                return built
        elif node_type in _CONTAINERS or _is_namedtuple(node_type):
            return self.container(node_type, aux, children, sample)
        return self.fallback(treedef)

    def container(self, node_type: type, aux: Any, children: Any, sample: Any) -> str:
        if node_type is dict:
            items = [self.node(c, sample[k]) for c, k in zip(children, aux)]
            keys = [self.constant(k) for k in aux]
            return "{" + "".join(f"{k}: {v}, " for k, v in zip(keys, items)) + "}"
        parts = "".join(f"{self.node(c, s)}, " for c, s in zip(children, sample))
        if node_type is tuple:
            return f"({parts})"
        if node_type is list:
            return f"[{parts}]"
        # a named tuple, without the Python frame of its `__new__`
        return f"_tuple_new({self.constant(node_type)}, ({parts}))"

    def module(self, cls: type, children: Any, sample: Any) -> str | None:
        own = instance_dict(sample)
        keyed, _ = _flatten_one(sample)
        names = [getattr(k, "name", None) for k, _ in keyed]
        if not all(n in own for n in names):
            return None  # slots, or children that are not plain attributes
        values = dict(
            zip(names, (self.node(c, own[n]) for n, c in zip(names, children)))
        )
        # Every entry of the new instance's own `__dict__`, in the sample's order:
        # a fresh instance's dict shares its keys with its class (CPython), which
        # is faster to fill, and to free, than a dict of its own.
        var = f"n{len(self.lines)}"
        stores = "".join(
            f"d[{k!r}] = {values[k] if k in values else self.constant(v)}; "
            for k, v in own.items()
        )
        self.lines.append(
            f"    {var} = _new({self.constant(cls)}); "
            f"d = {self.constant(instance_dict)}({var}); {stores}"
        )
        return var

    def fallback(self, treedef: Any) -> str:
        leaves = []
        for _ in range(treedef.num_leaves):
            index, self.leaf = self.leaf, self.leaf + 1
            position = self.dynamic_position.get(index)
            leaves.append(
                self.constant(next(self.static_iter))
                if position is None
                else f"a[{position}]"
            )
        unflatten = self.constant(treedef.unflatten)
        return f"{unflatten}([{''.join(f'{x}, ' for x in leaves)}])"


def _is_namedtuple(node_type: type) -> bool:
    return issubclass(node_type, tuple) and hasattr(node_type, "_fields")


def make_builder(
    treedef: Any,
    dynamic_indices: Sequence[int],
    static: Sequence[Any],
    sample: Any,
) -> Builder | None:
    """Generate the function `arrays -> tree` for one output structure.

    **Arguments:**

    - `treedef`: the output's tree structure.
    - `dynamic_indices`: the positions (in flattening order) of its array leaves.
    - `static`: its other leaves, in order.
    - `sample`: an output of this structure, built by `tree_unflatten` (it shows
        how each Module stores its fields).

    **Returns:**

    The builder, or `None` when the generated code would not rebuild `sample`
    exactly (then `tree_unflatten` is used).
    """
    position = {index: k for k, index in enumerate(dynamic_indices)}
    emitter = _Emitter(position, static)
    result = emitter.node(treedef, sample)
    source = "\n".join(["def build(a):", *emitter.lines, f"    return {result}"])
    scope = emitter.scope
    exec(compile(source, "<typedeqx output builder>", "exec"), scope)
    build: Builder = scope["build"]
    arrays = [x for i, x in enumerate(jtu.tree_leaves(sample)) if i in position]
    again = build(arrays)
    same_leaves = all(
        x is y for x, y in zip(jtu.tree_leaves(again), jtu.tree_leaves(sample))
    )
    if jtu.tree_structure(again) != treedef or not same_leaves:
        return None
    return build


class Output:
    """What `filter_jit` keeps per output structure, on the `TreeSplit` that comes
    back in a compiled function's `Packed` output: the builder of the tree, and the
    memo's `make` and tokens that record the output's objects (see `_memo.py`)."""

    __slots__ = ("build", "make", "tokens")

    def __init__(self, split: TreeSplit, sample: Any) -> None:
        built = make_builder(split.treedef, split.dynamic_indices, split.static, sample)
        self.build = split.rebuild if built is None else built
        plan = plan_memo((sample,))
        self.make = None if plan is None else memo_functions(plan)[0]
        self.tokens = () if plan is None else tuple(OutputToken() for _ in plan[0])


def unpack_output(out: Packed) -> tuple[Any, Output]:
    """The output tree of a compiled call, and its structure's [`Output`][].

    **Arguments:**

    - `out`: what the compiled function returned, a `Packed` of the output arrays.

    **Returns:**

    `(tree, output)`. The first output of a structure is rebuilt by
    `tree_unflatten`, and serves as the sample the builder is generated from.
    """
    split = out.split
    output = split.output
    if output is None:  # the first output of this structure
        tree = split.rebuild(out.arrays)
        split.output = output = Output(split, tree)
        return tree, output
    return output.build(out.arrays), output


def is_plain(treedef: Any) -> bool:
    """Whether a structure has only tuples, lists, dicts and `None` as nodes: JAX
    rebuilds such an output of arrays at C speed, and it holds nothing to memoise."""
    data = treedef.node_data()
    if data is None:
        return True
    if data[0] not in _PLAIN_NODES:
        return False
    return all(map(is_plain, treedef.children()))
