"""Out-of-place PyTree edits (`tree_at`) and PyTree comparison (`tree_equal`).

How `tree_at` finds nodes: the tree is flattened (with the caller's `is_leaf`) and
rebuilt with `tree_unflatten` around fresh placeholder objects, one per leaf, so
never calling a constructor. Every internal node of this stand-in tree is a fresh
object too, so an object returned by `where(stand_in)` names one position: a leaf if
it is a placeholder, else an internal node. The stand-in is then flattened once
more, stopping at the selected internal nodes, which makes each selected position a
leaf of a new treedef; unflattening that treedef with the replacements (and the
original leaves everywhere else) gives the result. Identity of the placeholders, not
of the original leaves, is what counts, so a leaf object shared by two positions is
still located by position.
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from ._errors import TreeError, TreeTypeError
from ._pretty import array_summary, tree_pformat


class _Sentinel:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Sentinel()


class _DistinctTuple(tuple[()]):
    """Stands in for an empty tuple: `()` is a shared object, so it cannot name a
    position. Not a registered PyTree node, so it is a leaf."""


def _is_empty_tuple(x: Any) -> bool:
    return type(x) is tuple and not x


def _distinct_empty_tuples(pytree: Any) -> Any:
    return jtu.tree_map(
        lambda x: _DistinctTuple() if _is_empty_tuple(x) else x,
        pytree,
        is_leaf=_is_empty_tuple,
    )


def _restore_empty_tuples(pytree: Any) -> Any:
    return jtu.tree_map(
        lambda x: () if isinstance(x, _DistinctTuple) else x,
        pytree,
        is_leaf=lambda x: isinstance(x, _DistinctTuple),
    )


class _Placeholder:
    """Stands in for leaf number `index` while `where` runs."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __repr__(self) -> str:
        return f"<tree_at placeholder for leaf {self.index}>"


class _StandIn:
    """`pytree` with every leaf replaced by a unique placeholder."""

    def __init__(self, pytree: Any, is_leaf: Callable[[Any], bool] | None):
        self.is_leaf = is_leaf
        self.leaves, self.treedef = jtu.tree_flatten(pytree, is_leaf=is_leaf)
        self.placeholders = [_Placeholder(i) for i in range(len(self.leaves))]
        self.tree = jtu.tree_unflatten(self.treedef, self.placeholders)

    def is_placeholder(self, x: Any) -> bool:
        if type(x) is not _Placeholder or x.index >= len(self.placeholders):
            return False
        return self.placeholders[x.index] is x

    def original(self, node: Any) -> Any:
        """The part of the original pytree at the position of stand-in `node`."""
        if self.is_placeholder(node):
            return self.leaves[node.index]
        placeholders, treedef = jtu.tree_flatten(node)
        return jtu.tree_unflatten(treedef, [self.leaves[p.index] for p in placeholders])

    def check_structural(self, on_stand_in: Any, on_pytree: Any) -> None:
        """Check that `where` picked the same nodes from the real tree as from the
        stand-in, i.e. that it did not look at leaf values."""
        picked, structure = jtu.tree_flatten(on_stand_in)
        for x in picked:
            if not self.is_placeholder(x):
                raise TreeTypeError(
                    f"tree_at: `where` returned {_describe(x)}, which is not a node "
                    "of pytree. `where` must return nodes of pytree (e.g. "
                    "`lambda m: m.linear.weight`), not computed values, static "
                    "fields or objects from outside its argument."
                )
        real, real_treedef = jtu.tree_flatten(on_pytree, is_leaf=self.is_leaf)
        real_structure: Any = real_treedef  # PyTreeDef's equality is untyped
        same = real_structure == structure and len(real) == len(picked)
        if not same or any(
            r is not self.leaves[p.index] for r, p in zip(real, picked, strict=True)
        ):
            raise TreeError(
                "tree_at: `where` selected different nodes from pytree than from a "
                "copy with the same structure, so it depends on leaf values (e.g. "
                "`filter(m, is_array)`, or testing a leaf's type). Select by "
                "structure only; to select by value, zip with the original: "
                "`lambda t: [n for n, x in zip(leaves(t), leaves(pytree)) if ...]`."
            )

    def describe(self, node: Any) -> str:
        if self.is_placeholder(node):
            return f"leaf {node.index} ({_describe(self.leaves[node.index])})"
        return _describe(self.original(node))

    def contains(self, node: Any) -> bool:
        seen: set[int] = set()

        def visit(x: Any) -> bool:
            seen.add(id(x))
            return False

        jtu.tree_flatten(self.tree, is_leaf=visit)
        return id(node) in seen


def _describe(x: Any) -> str:
    if isinstance(x, (jax.Array, np.ndarray, np.generic)):
        return f"an array {array_summary(x)}"
    text = tree_pformat(x, width=1_000_000)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(x).__name__} {text}"


def _call_where(where: Callable[[Any], Any], stand_in: _StandIn) -> Any:
    try:
        return where(stand_in.tree)
    except Exception as e:
        raise TreeError(
            f"tree_at: `where` raised {type(e).__name__}: {e}. It was called on a copy "
            "of pytree whose leaves are placeholder objects, so it must only select "
            "nodes (attribute access, indexing, iterating over containers) and not "
            "compute with leaf values. If it reads an `is_leaf` node's contents, "
            "leave that node out of `is_leaf`."
        ) from e


def _selection(
    result: Any, stand_in: _StandIn
) -> tuple[list[Any], bool, list[Any], Any]:
    """Split `where`'s result into the selected nodes and whether it was one node;
    also flatten the stand-in so that each selected position is a leaf."""
    if stand_in.is_placeholder(result):
        return [result], True, stand_in.placeholders, stand_in.treedef
    if type(result) is tuple and not result:  # `()` is shared, so it selects nothing
        return [], False, [], stand_in.treedef
    is_sequence = isinstance(result, (list, tuple))
    candidates = [result, *result] if is_sequence else [result]
    stop_ids = {id(c) for c in candidates if not stand_in.is_placeholder(c)}

    def stop(x: Any) -> bool:
        return type(x) is _Placeholder or id(x) in stop_ids

    flat, treedef = jtu.tree_flatten(stand_in.tree, is_leaf=stop)
    if not is_sequence or any(x is result for x in flat):
        return [result], True, flat, treedef
    return list(result), False, flat, treedef


def _check_selected(nodes: list[Any], flat: list[Any], stand_in: _StandIn) -> None:
    counts = Counter(id(x) for x in flat)
    seen: set[int] = set()
    for node in nodes:
        if id(node) in seen:
            raise TreeError(
                "tree_at: `where` selected the same node twice "
                f"({stand_in.describe(node)}); each node may be replaced only once."
            )
        seen.add(id(node))
        if node is None:
            raise TreeError(
                "tree_at: `where` returned None, but None is an empty subtree rather "
                "than a leaf, so it has no position of its own. Pass "
                "`is_leaf=lambda x: x is None` to make None values replaceable."
            )
        if counts[id(node)] == 1:
            continue
        if counts[id(node)] > 1:
            raise TreeError(
                f"tree_at: `where` returned {_describe(node)}, which occurs at "
                f"{counts[id(node)]} places in pytree, so it names no single position."
            )
        if stand_in.is_placeholder(node) or stand_in.contains(node):
            raise TreeError(
                f"tree_at: `where` selected {stand_in.describe(node)} and also a node "
                "that contains it; select either the container or its contents."
            )
        raise TreeError(
            f"tree_at: `where` returned {_describe(node)}, which is not a node of "
            "pytree. `where` must return nodes of pytree (e.g. "
            "`lambda m: m.linear.weight`), not computed values, static fields or "
            "objects from outside its argument."
        )


def _replacements(
    nodes: list[Any], single: bool, replace: Any, replace_fn: Any, stand_in: _StandIn
) -> list[Any]:
    if replace_fn is not _UNSET:
        return [
            replace_fn(_restore_empty_tuples(stand_in.original(node))) for node in nodes
        ]
    if single:
        return [replace]
    if not isinstance(replace, (list, tuple)):
        raise TreeTypeError(
            f"tree_at: `where` returned a sequence of {len(nodes)} nodes, so `replace` "
            f"must be a list or tuple of {len(nodes)} replacements; got "
            f"{_describe(replace)}."
        )
    if len(replace) != len(nodes):
        raise TreeError(
            f"tree_at: `where` returned {len(nodes)} nodes but `replace` has "
            f"{len(replace)} replacements; give one replacement per node."
        )
    return list(replace)


def tree_at(
    where: Callable[[Any], Any],
    pytree: Any,
    replace: Any = _UNSET,
    replace_fn: Callable[[Any], Any] = _UNSET,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Return a copy of `pytree` with some nodes replaced; like `.at[].set()` for
    PyTrees.

    **Arguments:**

    - `where`: a function `PyTree -> node` or `PyTree -> sequence of nodes`, given a
        tree with the structure of `pytree`, e.g. `lambda mlp: mlp.layers[-1]`.
        It must only select nodes (a returned list or tuple that is not itself a
        node of the tree is a sequence of selections).
    - `pytree`: the PyTree to edit; it is not modified.
    - `replace`: the replacement, or a sequence with one replacement per node when
        `where` returns a sequence. Exclusive with `replace_fn`.
    - `replace_fn`: a function `node -> replacement`, called on each selected node.
    - `is_leaf`: as in `jax.tree_util.tree_flatten`; e.g. `lambda x: x is None` to
        make `None` values selectable.

    **Returns:**

    A PyTree like `pytree` with the selected nodes replaced. Nothing else changes
    shape or dtype.

    ```python
    >>> new = tree_at(lambda t: t["b"][0], {"a": 1, "b": [2, 3]}, 5)
    >>> new
    {'a': 1, 'b': [5, 3]}

    ```
    """
    if (replace is _UNSET) == (replace_fn is _UNSET):
        given = "neither" if replace is _UNSET else "both"
        raise TreeError(
            f"tree_at needs exactly one of replace and replace_fn; got {given}."
        )
    distinct = _distinct_empty_tuples(pytree)
    stand_in = _StandIn(distinct, is_leaf)
    selected = _call_where(where, stand_in)
    stand_in.check_structural(selected, where(distinct))
    nodes, single, flat, treedef = _selection(selected, stand_in)
    _check_selected(nodes, flat, stand_in)
    new = _replacements(nodes, single, replace, replace_fn, stand_in)
    if not nodes:
        return pytree
    by_id = {id(node): value for node, value in zip(nodes, new, strict=True)}
    out = [
        by_id[id(x)] if id(x) in by_id else _restore_empty_tuples(stand_in.original(x))
        for x in flat
    ]
    return jtu.tree_unflatten(treedef, out)


def _leaf_type(x: Any) -> type:
    # Tracers and concrete arrays are all JAX arrays, whatever their Python class.
    return jax.Array if isinstance(x, jax.Array) else type(x)


def _is_numpy(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def _arrays_equal(x: Any, y: Any, rtol: float, atol: float) -> bool | jax.Array:
    if np.shape(x) != np.shape(y) or x.dtype != y.dtype:
        return False
    exact = (rtol == 0 and atol == 0) or not np.issubdtype(x.dtype, np.inexact)
    if _is_numpy(x) and _is_numpy(y):
        if exact:
            return bool(np.array_equal(x, y))
        return bool(np.allclose(x, y, rtol=rtol, atol=atol))
    # A JAX array is involved: answer with a JAX bool, which also works under `jit`.
    if exact:
        return jnp.all(x == y)
    return jnp.allclose(x, y, rtol=rtol, atol=atol)


def _leaves_equal(
    x: Any, y: Any, typematch: bool, rtol: float, atol: float
) -> bool | jax.Array:
    if typematch and _leaf_type(x) is not _leaf_type(y):
        return False
    x_array = isinstance(x, (jax.Array, np.ndarray, np.generic))
    y_array = isinstance(y, (jax.Array, np.ndarray, np.generic))
    if x_array and y_array:
        return _arrays_equal(x, y, rtol, atol)
    if x_array or y_array:
        return False
    return bool(x == y)


def tree_equal(
    *pytrees: Any, typematch: bool = False, rtol: float = 0.0, atol: float = 0.0
) -> bool | jax.Array:
    """Whether PyTrees have the same structure and equal leaves.

    **Arguments:**

    - `*pytrees`: the PyTrees to compare (any number; fewer than two are equal).
    - `typematch`: also require leaves at the same position to have the same type
        (so `1` and `1.0` differ).
    - `rtol`, `atol`: tolerances for inexact arrays, as for `jnp.allclose`. Both
        zero (the default) means exact equality.

    **Returns:**

    `False` as soon as structures, shapes, dtypes or non-array leaves differ.
    Otherwise, when any compared leaf is a JAX array, a scalar JAX `bool` array
    (concrete outside `jit`, traced inside; `bool(...)` it outside `jit`); when none
    is, a Python `bool`.
    """
    if len(pytrees) < 2:
        return True
    first, *rest = pytrees
    leaves, treedef = jtu.tree_flatten(first)
    structure: Any = treedef  # PyTreeDef's equality is untyped in jaxlib
    arrays: list[jax.Array] = []
    for other in rest:
        other_leaves, other_treedef = jtu.tree_flatten(other)
        if other_treedef != structure:
            return False
        for x, y in zip(leaves, other_leaves, strict=True):
            equal = _leaves_equal(x, y, typematch, rtol, atol)
            if equal is False:
                return False
            if equal is not True:
                arrays.append(equal)
    if not arrays:
        return True
    return jnp.all(jnp.stack(arrays))
