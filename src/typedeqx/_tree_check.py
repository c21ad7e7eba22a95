"""Looking at a PyTree's nodes: one level down (`tree_flatten_one_level`), and
checking that no node occurs twice or inside itself (`tree_check`)."""

from typing import Any

import jax.tree_util as jtu


def tree_flatten_one_level(pytree: Any) -> tuple[list[Any], Any]:
    """The immediate children of a PyTree node (a leaf gives itself).

    **Arguments:**

    - `pytree`: the node to flatten by one level.

    **Returns:**

    As `jax.tree_util.tree_flatten`: a list of children and a `PyTreeDef` with a
    leaf where each child goes.

    **Raises:**

    `ValueError` if the node is one of its own children (`x = []; x.append(x)`).
    """
    seen_root = False

    def is_leaf(node: Any) -> bool:
        nonlocal seen_root
        if node is not pytree:
            return True
        if seen_root:
            raise ValueError(
                f"tree_flatten_one_level: the {type(pytree).__name__} node contains "
                "itself as a child (as in `x = []; x.append(x)`); a PyTree must be "
                "a tree. Store a copy instead of the node itself."
            )
        seen_root = True
        return False

    leaves, treedef = jtu.tree_flatten(pytree, is_leaf=is_leaf)
    return leaves, treedef


_LEAF = jtu.tree_structure(0)


def _visit(node: Any, status: dict[int, bool]) -> None:
    children, treedef = tree_flatten_one_level(node)
    structure: Any = treedef
    # Leaves and empty containers may repeat: they carry no shared state.
    if structure == _LEAF or structure.num_leaves == 0:
        return
    if id(node) in status:
        kind = type(node).__name__
        if status[id(node)]:
            raise ValueError(
                f"tree_check: a {kind} node occurs inside itself (a reference "
                "cycle); a PyTree must be a tree. Break the cycle."
            )
        raise ValueError(
            f"tree_check: the same {kind} node occurs more than once in the PyTree; "
            "flattening and unflattening (e.g. crossing `jit`) would turn it into "
            "independent copies. Use one node per position, or share by index."
        )
    status[id(node)] = True  # on the current path
    for child in children:
        _visit(child, status)
    status[id(node)] = False  # done


def tree_check(pytree: Any) -> None:
    """Check that no node with leaves occurs twice in `pytree` or inside itself.

    Repeated leaves, `None` and empty containers are fine. JAX does not require
    this, but crossing a transformation copies every occurrence separately, so a
    node shared between two places silently stops being shared.

    **Arguments:**

    - `pytree`: the PyTree to check.

    **Returns:**

    Nothing.

    **Raises:**

    `ValueError` naming the node type if a node repeats or contains itself.
    """
    _visit(pytree, {})
