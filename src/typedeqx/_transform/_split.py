"""Splitting a PyTree into arrays and the rest, and carrying the rest across a JAX
transformation: what every filtered transformation shares.

- [`TreeSplit`][] and [`split_tree`][]: a PyTree split into the leaves a JAX
  transformation sees (arrays) and the ones it must not (everything else), and put
  back together.
- [`Static`][] and [`Packed`][]: how non-array values cross a JAX transformation
  boundary. JAX returns only arrays, but it returns the *structure* of its output
  untouched, so non-array outputs travel in the treedef: a `Static` node carries a
  value, a `Packed` node carries a function's output arrays as children and its
  `TreeSplit` (structure and non-array leaves) as metadata. Both unflatten to
  themselves, which keeps `jax.jit` on its C++ dispatch path.
- leaf getters: precomputed `operator.itemgetter`s that pick leaves at C speed.

The common base of the wrapped callables is in `_wrapper_base.py`.
"""

import functools
import inspect
import operator
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.tree_util as jtu

from .._errors import TransformError
from .._filters import is_array


class Static:
    """A PyTree node with no children that holds `value` in its tree structure."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


jtu.register_pytree_node(
    Static, lambda s: ((), s.value), lambda value, _: Static(value)
)


class Packed:
    """A function's output, packed to be returned from a JAX transformation: its
    arrays as children, its [`TreeSplit`][] as metadata. `unpack()` restores it."""

    __slots__ = ("arrays", "split")

    def __init__(self, split: "TreeSplit", arrays: Sequence[Any]) -> None:
        self.arrays = arrays
        self.split = split

    def unpack(self) -> Any:
        return self.split.rebuild(self.arrays)


# Unflattened by the class itself: JAX calls `Packed(split, arrays)`.
jtu.register_pytree_node(Packed, lambda p: (p.arrays, p.split), Packed)


def pack(tree: Any) -> Any:
    """`tree` itself if all its leaves are arrays, else a [`Packed`][] of it.

    **Arguments:**

    - `tree`: any PyTree (a function's output, at trace time).

    **Returns:**

    A PyTree whose leaves are arrays only, so that JAX can return it; pass what
    comes back to [`unpack`][].
    """
    arrays, split = split_tree(tree)
    return tree if not split.static_indices else Packed(split, arrays)


def unpack(tree: Any) -> Any:
    """Inverse of [`pack`][], on what a JAX transformation returned."""
    return tree.unpack() if type(tree) is Packed else tree


def _no_leaves(leaves: Sequence[Any]) -> tuple[()]:
    del leaves
    return ()


def leaf_getter(indices: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function `leaves -> tuple(leaves[i] for i in indices)`, built for speed.

    **Arguments:**

    - `indices`: positions to pick, in order.

    **Returns:**

    The getter; it always returns a tuple (also for zero or one index).
    """
    if len(indices) == 0:
        return _no_leaves
    if len(indices) == 1:
        (index,) = indices

        def get_one(leaves: Sequence[Any]) -> tuple[Any, ...]:
            return (leaves[index],)

        return get_one
    getter: Callable[[Sequence[Any]], tuple[Any, ...]] = operator.itemgetter(*indices)
    return getter


def merge_leaves(
    size: int,
    first_indices: Sequence[int],
    first: Sequence[Any],
    second_indices: Sequence[int],
    second: Sequence[Any],
) -> list[Any]:
    """Interleave two lists of leaves back into one list of length `size`."""
    out: list[Any] = [None] * size
    for i, x in zip(first_indices, first):
        out[i] = x
    for i, x in zip(second_indices, second):
        out[i] = x
    return out


class TreeSplit:
    """The structure of a PyTree split by a predicate: where the selected
    (*dynamic*) leaves go, and the other (*static*) leaves themselves.

    Two splits are equal when they have the same structure and equal static
    leaves, so a split can sit in a treedef (inside a [`Packed`][] or a
    [`Static`][]) that JAX compares across traces.
    """

    __slots__ = (
        "treedef",
        "size",
        "dynamic_indices",
        "static_indices",
        "static",
        "_gather",
        "output",
    )

    def __init__(self, leaves: list[Any], treedef: Any, mask: list[bool]) -> None:
        self.treedef = treedef
        self.size = len(leaves)
        self.dynamic_indices = tuple(i for i, m in enumerate(mask) if m)
        self.static_indices = tuple(i for i, m in enumerate(mask) if not m)
        self.static = tuple(leaves[i] for i in self.static_indices)
        # rebuild = one C-level gather from [*dynamic, *static] into leaf order
        position = {i: k for k, i in enumerate(self.dynamic_indices)}
        offset = len(self.dynamic_indices)
        position.update({i: offset + k for k, i in enumerate(self.static_indices)})
        self._gather = leaf_getter([position[i] for i in range(self.size)])
        # What `filter_jit` keeps for outputs of this structure (see `_jit.py`).
        self.output: Any = None

    def rebuild(self, dynamic: Sequence[Any]) -> Any:
        """The tree with `dynamic` as its dynamic leaves, static leaves kept."""
        return jtu.tree_unflatten(self.treedef, self._gather((*dynamic, *self.static)))

    def rebuild_dynamic(self, dynamic: Sequence[Any]) -> Any:
        """The tree with `dynamic` as its dynamic leaves and `None` elsewhere (the
        shape of a tangent or gradient tree)."""
        merged = merge_leaves(self.size, self.dynamic_indices, dynamic, (), ())
        return jtu.tree_unflatten(self.treedef, merged)

    def _key(self) -> tuple[Any, ...]:
        return (self.treedef, self.dynamic_indices, self.static)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TreeSplit) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def split_tree(
    tree: Any, predicate: Callable[[Any], bool] = is_array
) -> tuple[list[Any], TreeSplit]:
    """Split `tree` into the leaves selected by `predicate` and the rest.

    **Arguments:**

    - `tree`: any PyTree.
    - `predicate`: which leaves are dynamic (default: arrays).

    **Returns:**

    `(dynamic, split)`: the selected leaves in order, and the [`TreeSplit`][] whose
    `rebuild(new_dynamic)` gives `tree` back with those leaves replaced.
    """
    leaves, treedef = jtu.tree_flatten(tree)
    mask = [bool(predicate(x)) for x in leaves]
    return [x for x, m in zip(leaves, mask) if m], TreeSplit(leaves, treedef, mask)


def split_fun(fun: Any) -> tuple[tuple[Any, ...], Callable[[Sequence[Any]], Any]]:
    """Split a callable PyTree (say a bound method) into its arrays and a rebuilder,
    as [`split_tree`][]; a function without arrays is rebuilt as itself."""
    arrays, split = split_tree(fun)
    if not arrays:
        return (), lambda _: fun
    return tuple(arrays), split.rebuild


def fun_name(fun: Any) -> str:
    """A readable name for `fun`, for error messages and compiled-function names."""
    while isinstance(fun, functools.partial):
        fun = fun.func
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None)
    return name if isinstance(name, str) else type(fun).__name__


def signature_or_none(fun: Any) -> inspect.Signature | None:
    """`inspect.signature(fun)`, or `None` where Python cannot determine it."""
    try:
        return inspect.signature(fun)
    except (TypeError, ValueError):
        return None


# `jax.ShapeDtypeStruct` is untyped; this alias gives calls a type.
make_struct: Callable[..., jax.ShapeDtypeStruct] = jax.ShapeDtypeStruct


def is_traced_or_array(x: Any) -> bool:
    """Whether `x` is an array or a `jax.ShapeDtypeStruct` (a shape-only array)."""
    return is_array(x) or isinstance(x, jax.ShapeDtypeStruct)


def describe_leaf(x: Any) -> str:
    """Shape and dtype for arrays, the type and a short repr otherwise."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {x.dtype}"
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(x).__name__} {text}"


def call_path(path: tuple[Any, ...]) -> str:
    """Render the key path of a leaf of `(args, kwargs)` as `args[0].weight`."""
    if not path:
        return "the arguments"
    head, *rest = path
    root = "args" if getattr(head, "idx", None) == 0 else "kwargs"
    return root + jtu.keystr(tuple(rest))


def unhashable_error(name: str, tree: Any) -> TransformError:
    """The error for a call of `name` whose static part cannot be hashed.

    Looks for the first non-array leaf of `tree` (an `(args, kwargs)` pair) that is
    not hashable, then for a node whose static metadata is not.
    """
    for path, leaf in jtu.tree_flatten_with_path(tree)[0]:
        if is_array(leaf):
            continue
        try:
            hash(leaf)
        except TypeError as e:
            return TransformError(
                f"{name} traces arrays and treats every other leaf as static, and "
                f"static leaves must be hashable. {call_path(path)} is a "
                f"{describe_leaf(leaf)}, which is not ({e}). Make it hashable (a tuple "
                "instead of a list, a frozen dataclass, ...) or turn it into an array."
            )
    return TransformError(
        f"{name} needs the tree structure of its arguments to be hashable, but a "
        "node's static metadata is not (for a Module: a field declared "
        "`field(static=True)` holds an unhashable value). Make that value hashable "
        "or make the field a normal (non-static) field."
    )
