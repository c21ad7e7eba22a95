"""Filters: predicates on leaves, and splitting a tree by them.

A *filter spec* is either a predicate `leaf -> bool`, a bool, or a PyTree prefix of
the tree being filtered whose leaves are predicates or bools. Each spec leaf decides
for every leaf of the subtree it sits above.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.tree_util as jtu
import numpy as np

from ._errors import TreeError

_ARRAY_TYPES = (jax.Array, np.ndarray, np.generic)
_ARRAY_LIKE_TYPES = (jax.Array, np.ndarray, np.generic, float, complex, bool, int)


# `isinstance(x, jax.Array)` goes through an ABC check costing ~0.7us; the answer
# depends only on `type(x)`, and `is_array` runs once per leaf on the dispatch path
# of filter_jit, so it is memoised per type.
_is_array_type: dict[type, bool] = {}
_is_inexact_dtype: dict[Any, bool] = {}


def is_array(element: Any) -> bool:
    """Whether `element` is a JAX or NumPy array (or NumPy scalar)."""
    kind = type(element)
    known = _is_array_type.get(kind)
    if known is None:
        known = _is_array_type[kind] = isinstance(element, _ARRAY_TYPES)
    return known


def is_array_like(element: Any) -> bool:
    """Whether `element` can be turned into a JAX array: an array, a Python number or
    bool, or an object with `__jax_array__`."""
    return isinstance(element, _ARRAY_LIKE_TYPES) or hasattr(element, "__jax_array__")


def is_inexact_array(element: Any) -> bool:
    """Whether `element` is an array with a floating or complex dtype."""
    if not is_array(element):
        return False
    dtype = element.dtype
    known = _is_inexact_dtype.get(dtype)
    if known is None:
        # jnp's issubdtype knows ml_dtypes (bfloat16, float8), which numpy's does not.
        known = _is_inexact_dtype[dtype] = bool(jax.numpy.issubdtype(dtype, np.inexact))
    return known


def is_inexact_array_like(element: Any) -> bool:
    """Whether `element` is an inexact array, a Python float or complex, or an object
    with `__jax_array__` that yields an inexact array."""
    if hasattr(element, "__jax_array__"):
        element = element.__jax_array__()
    return isinstance(element, (float, complex)) or is_inexact_array(element)


def _is_none(x: Any) -> bool:
    return x is None


def _is_spec_leaf(spec: Any) -> bool:
    return jtu.treedef_is_leaf(jtu.tree_structure(spec))


def _spec_to_mask(spec_leaf: Any, subtree: Any, is_leaf: Any) -> Any:
    if isinstance(spec_leaf, bool):
        return jtu.tree_map(lambda _: spec_leaf, subtree, is_leaf=is_leaf)
    if callable(spec_leaf):
        return jtu.tree_map(spec_leaf, subtree, is_leaf=is_leaf)
    raise TreeError(
        "Every leaf of a filter spec must be a bool or a callable `leaf -> bool`; "
        f"got {type(spec_leaf).__name__} {spec_leaf!r}. Use e.g. `eqx.is_array`."
    )


def _mask_leaves(
    pytree: Any, filter_spec: Any, is_leaf: Callable[[Any], bool] | None
) -> tuple[list[Any], list[bool], Any]:
    leaves, treedef = jtu.tree_flatten(pytree, is_leaf=is_leaf)
    # A spec is a PyTree prefix first: a Module of bools is a tree of decisions, not
    # a predicate, even though it is callable. Only a spec that is itself a leaf
    # (a function, a bool) decides for every leaf at once.
    if _is_spec_leaf(filter_spec) and callable(filter_spec):
        return leaves, [bool(filter_spec(x)) for x in leaves], treedef
    try:
        mask_tree = jtu.tree_map(
            lambda s, sub: _spec_to_mask(s, sub, is_leaf), filter_spec, pytree
        )
    except ValueError as e:
        if isinstance(e, TreeError):
            raise
        raise TreeError(
            "filter_spec must be a callable, a bool, or a PyTree prefix of the tree "
            f"being filtered; its structure does not match: {e}"
        ) from None
    mask = jtu.tree_leaves(mask_tree, is_leaf=is_leaf)
    return leaves, [bool(m) for m in mask], treedef


def filter(
    pytree: Any,
    filter_spec: Any,
    inverse: bool = False,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Keep the leaves of `pytree` selected by `filter_spec`; put `replace` elsewhere.

    **Arguments:**

    - `pytree`: any PyTree.
    - `filter_spec`: a predicate, a bool, or a PyTree prefix of `pytree` of those.
    - `inverse`: keep the leaves *not* selected instead.
    - `replace`: what goes where a leaf is dropped (default `None`).
    - `is_leaf`: as in `jax.tree_util.tree_flatten`.

    **Returns:**

    A PyTree of the same structure as `pytree` (with `None` where leaves were
    dropped, as `None` is an empty subtree).
    """
    leaves, mask, treedef = _mask_leaves(pytree, filter_spec, is_leaf)
    out = [x if m != inverse else replace for x, m in zip(leaves, mask)]
    return jtu.tree_unflatten(treedef, out)


def partition(
    pytree: Any,
    filter_spec: Any,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> tuple[Any, Any]:
    """Split `pytree` in two: the leaves selected by `filter_spec`, and the rest.

    **Arguments:** as for [`filter`][].

    **Returns:**

    A pair `(selected, rest)` of PyTrees shaped like `pytree`; each holds `replace`
    where the other holds a leaf. `combine(selected, rest)` restores `pytree`.
    """
    leaves, mask, treedef = _mask_leaves(pytree, filter_spec, is_leaf)
    left = [x if m else replace for x, m in zip(leaves, mask)]
    right = [replace if m else x for x, m in zip(leaves, mask)]
    return jtu.tree_unflatten(treedef, left), jtu.tree_unflatten(treedef, right)


def _first_not_none(*xs: Any) -> Any:
    for x in xs:
        if x is not None:
            return x
    return None


def combine(*pytrees: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Merge PyTrees of the same structure, taking the first non-`None` at each leaf.

    **Arguments:**

    - `*pytrees`: PyTrees with the same structure once `None` counts as a leaf,
        typically the outputs of [`partition`][].
    - `is_leaf`: as in `jax.tree_util.tree_flatten`; `None` is always a leaf.

    **Returns:**

    One PyTree of that structure.
    """
    if not pytrees:
        raise TreeError("combine needs at least one PyTree; got none.")
    if is_leaf is None:
        leaf_test = _is_none
    else:

        def leaf_test(x: Any) -> bool:
            return x is None or is_leaf(x)

    try:
        return jtu.tree_map(_first_not_none, *pytrees, is_leaf=leaf_test)
    except ValueError as e:
        raise TreeError(
            "combine needs PyTrees of one structure (counting `None` as a leaf), "
            f"such as the two halves from `partition`; they differ: {e}"
        ) from None
