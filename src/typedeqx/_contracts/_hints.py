"""Hints for the commonest shape mistakes, computed only once a check has failed:
a module built by `filter_vmap` called outside a vmap, a batch passed to a layer
that takes one example, and a transposed input."""

from typing import Any

import jax.tree_util as jtu

from ._bindings import Bindings
from ._dims import ArraySpec, Problem
from ._nodes import ArrayNode, Node, UnionNode
from ._plan import ClassPlan
from ._shape_error import short_array


def _array_specs(node: Node) -> list[ArraySpec]:
    if isinstance(node, ArrayNode):
        return [node.spec]
    if isinstance(node, UnionNode):
        return [s for o in node.options for s in _array_specs(o)]
    return []


def argument_hint(
    name: str, node: Node, value: Any, b: Bindings, problem: Problem
) -> str | None:
    """An extra leading (batch) axis, or swapped axes, that would make `value` fit.

    **Arguments:**

    - `name`: the argument's name.
    - `node`: its compiled annotation.
    - `value`: the value that failed.
    - `b`: the bindings before the value was checked (left unchanged).
    - `problem`: how it failed; a batch is suggested only for a wrong rank, a
        transposition only for wrong sizes.
    """
    raw = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if not isinstance(raw, tuple) or dtype is None or problem.score < 2:
        return None
    shape: tuple[int, ...] = raw
    for spec in _array_specs(node):
        if not spec.accepts_dtype(dtype):
            continue
        if problem.score == 2 and len(shape) == spec.rank + 1 and not spec.any_rank:
            if spec.match(shape[1:], dtype, b.copy()) is None:
                return (
                    f"{name} has one axis too many: it looks like a batch of "
                    f"{value.shape[0]} inputs of shape "
                    f"{short_array(shape[1:], dtype)}. "
                    f"Map over it with jax.vmap, e.g. jax.vmap(layer)({name})."
                )
        flipped = shape[::-1]
        if problem.score == 3 and len(shape) >= 2 and flipped != shape:
            if spec.match(flipped, dtype, b.copy()) is None:
                return (
                    f"{name} looks transposed: {short_array(flipped, dtype)} would "
                    f"match. Did you mean {name}.T?"
                )
    return None


def batched_hint(plan: ClassPlan, obj: Any) -> str | None:
    """Whether `obj` looks like a stack of modules made by `filter_vmap`: every array
    field has one extra leading axis of one size, and without it the fields pass."""
    leading = set()
    for slot in plan.slots:
        if slot.role != "field" or not slot.node.binds:
            continue
        for leaf in jtu.tree_leaves(obj.__dict__.get(slot.name)):
            shape = getattr(leaf, "shape", None)
            if isinstance(shape, tuple):
                if not shape:
                    return None
                leading.add(shape[0])
    if len(leading) != 1 or plan.check_stripped(obj, 1) is not None:
        return None
    (size,) = leading
    return (
        f"this {plan.name} looks batched: every array field has an extra leading axis"
        f" of size {size}, as made by filter_vmap over {size} keys. Call it inside "
        f"filter_vmap, e.g. typedeqx.filter_vmap(lambda m: m(x))(model), or index "
        "one member out of the stack first."
    )
