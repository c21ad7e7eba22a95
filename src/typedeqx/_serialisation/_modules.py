"""Re-running the field contracts of the checked Modules in a loaded tree:
unflattening skips `__init__`, where the contract normally runs."""

from typing import Any

import jax
import jax.tree_util as jtu

from .._contracts import ShapeError, recheck_fields
from .._filters import combine, is_array, partition
from .._module import Module


def check_modules(tree: Any, inside: Any = None) -> None:
    """Check every Module in `tree`, innermost first."""

    def is_module(node: Any) -> bool:
        return isinstance(node, Module) and node is not inside

    for node in jtu.tree_leaves(tree, is_leaf=is_module):
        if is_module(node):
            check_modules(node, node)
            _check_fields(node)


def _check_fields(module: Any) -> None:
    """Check one module's fields, as constructed: a module stacked by `filter_vmap`
    (every array with the same extra leading axis, as in an ensemble or a scanned
    stack of layers) was checked per member, so it is checked per member here.

    A field that is `None` where its annotation wants a value was filtered out, as
    in an optimiser state built from `filter(model, is_array)`: such a partial copy
    never had a contract, so it is not held to one."""
    try:
        recheck_fields(module)
    except ShapeError as error:
        if getattr(module, error.parameter, ...) is None:
            return
        if not _check_stacked(module):
            raise


def _check_stacked(module: Any) -> bool:
    arrays, rest = partition(module, is_array)
    leaves = jtu.tree_leaves(arrays)
    leading = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
    if len(leading) != 1 or None in leading:
        return False
    try:
        jax.vmap(lambda member: _check_fields(combine(member, rest)))(arrays)
    except ShapeError:
        return False
    return True
