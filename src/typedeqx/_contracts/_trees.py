"""Checkers for whole PyTrees: `PyTree[leaf]`, `PyTree[leaf, "T"]`, and a fallback
to jaxtyping's own machinery for the rare forms we do not compile.
"""

from typing import Any

import jax.tree_util as jtu

from ._bindings import Bindings
from ._dims import Problem
from ._jaxtyping import check_under_memo
from ._nodes import ClassNode, Node, UnionNode
from ._shape_error import describe


def _leaf_classes(node: Node | None) -> tuple[type, ...]:
    """Classes a leaf annotation names, which must stay whole when flattening
    (`PyTree[Linear]` has Linear modules as leaves, not their arrays)."""
    if isinstance(node, ClassNode):
        return (node.cls,)
    if isinstance(node, UnionNode):
        return tuple(c for o in node.options for c in _leaf_classes(o))
    return ()


class PyTreeNode(Node):
    """`PyTree[leaf]` or `PyTree[leaf, "T"]`: every leaf matches; a named structure
    binds (or must equal) the tree structure, and `?dims` bind per leaf."""

    def __init__(self, leaf: Node | None, structure: str | None, text: str) -> None:
        self.leaf = leaf
        self.structure = structure
        self.text = text
        self.keyed = leaf is None or leaf.keyed
        self.binds = structure is not None or (leaf is not None and leaf.binds)
        self.symbolic = leaf is not None and leaf.symbolic
        self.uses_arguments = leaf is not None and leaf.uses_arguments
        classes = _leaf_classes(leaf)
        self.is_leaf = (lambda x: isinstance(x, classes)) if classes else None
        leaf_key = leaf.key if leaf is not None else type
        is_leaf = self.is_leaf

        def key(value: Any) -> Any:
            leaves, treedef = jtu.tree_flatten(value, is_leaf=is_leaf)
            return (treedef, tuple(map(leaf_key, leaves)))

        self.key = key

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        leaves, treedef = jtu.tree_flatten_with_path(value, is_leaf=self.is_leaf)
        name = self.structure
        if name is not None:
            bound = b.trees.get(name)
            if bound is None:
                b.trees[name] = treedef
            elif bound != treedef:
                detail = f"its structure differs from the structure {name} bound before"
                return Problem(describe(value), self.text, detail, score=2)
        if self.leaf is None:
            return None
        try:
            for index, (path, leaf) in enumerate(leaves):
                b.treepath = None if name is None else f"{name}[{index}]"
                problem = self.leaf.check(leaf, b, strip)
                if problem is not None:
                    problem.at = jtu.keystr(path) + problem.at
                    return problem
        finally:
            b.treepath = None
        return None


class ForeignNode(Node):
    """A hint with arrays inside that we do not compile (a composite structure such
    as `PyTree[..., "S T"]`, or an unusual generic): beartype checks it under a
    jaxtyping memo seeded with our bindings, and what it binds is read back."""

    keyed = False
    binds = True

    def __init__(self, hint: Any, text: str) -> None:
        self.hint = hint
        self.text = text

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        from beartype.door import is_bearable  # lazily: see BeartypeNode

        def check() -> bool:
            return is_bearable(value, self.hint)

        bound = check_under_memo(check, b.arguments, b.sizes, b.shapes, b.trees)
        if bound is None:
            return Problem(describe(value), self.text)
        for name, size in bound.sizes.items():
            if name not in b.sizes:
                b.bind_size(name, size, b.label)
        for name, (broadcastable, shape) in bound.shapes.items():
            if name not in b.shapes:
                b.bind_shape(name, broadcastable, shape, b.label)
        b.trees.update(bound.trees)
        return None
