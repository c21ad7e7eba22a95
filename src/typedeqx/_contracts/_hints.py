"""Hints computed only once a check has failed: the fix finder's edit of an
argument (`_fixes.py`), rendered for where the error was located, and a module
built by `filter_vmap` called outside a vmap."""

import re
import sys
from types import FrameType
from typing import Any

import jax.tree_util as jtu

from ._bindings import Bindings
from ._fixes import describe_fix, find_fix, vmap_code
from ._nodes import Node
from ._plan import ClassPlan
from ._shape_error import ShapeError

_LAST_FIELD = re.compile(r"\.([A-Za-z_]\w*(?:\[[^\]]*\])*)$")


def argument_hint(
    name: str,
    node: Node,
    value: Any,
    b: Bindings,
    error: ShapeError,
    layer: Any,
    arguments: dict[str, Any],
) -> tuple[str | None, bool]:
    """The edit of `value` that would keep its contract, as a hint, or `None`; and
    whether the hint holds only where `error` is rooted (a map over the inputs of
    the module the error names).

    **Arguments:**

    - `name`: the argument's name.
    - `node`: its compiled annotation.
    - `value`: the value that failed.
    - `b`: the bindings before the value was checked (left unchanged).
    - `error`: the located error (its path and root say whom to map with vmap).
    - `layer`: the module whose method received `value` (`None` for a function).
    - `arguments`: the call's arguments by name (those given).
    """
    fix = find_fix(node, value, b, name)
    if fix is None:
        return None, False
    mapping: str | None = ""
    if fix.mapped:
        mapping = _mapping(value, fix.expression, fix.mapped, error, layer, arguments)
    if mapping is None:
        return None, False
    return describe_fix(fix, name, value, mapping), bool(fix.mapped)


def _mapping(
    value: Any,
    expression: str,
    mapped: int,
    error: ShapeError,
    layer: Any,
    arguments: dict[str, Any],
) -> str | None:
    """How to map over the leading axes: the model the user called, given a batch
    of its inputs, and the layer inside its parent, given a batch of its own."""
    root = error.origin
    choices = []
    if root is not None and root is not layer:
        model = _model_call(_call_arguments(root), value, expression, mapped, "model")
        if model is not None:
            choices.append(f"{model} for a batch of {type(root).__name__} inputs")
        inside = _LAST_FIELD.search(error.path)
        plain = not any(mark in error.path for mark in (" ", "[*]"))
        arrays = [v for v in arguments.values() if hasattr(v, "shape")]
        if layer is not None and inside and plain and len(arrays) == 1:
            parent = error.path[: inside.start()]
            code = vmap_code(f"self.{inside.group(1)}", mapped, expression)
            choices.append(f"{code} inside {parent}")
    else:
        call = _model_call(arguments, value, expression, mapped, _callee(layer))
        if call is not None:
            choices.append(call)
    if not choices:
        return None
    return "Map over it with jax.vmap: " + ", or ".join(choices) + "."


def _callee(called: Any) -> str:
    """What to call the function or module the user called, in code."""
    if called is None:
        return "f"
    return "layer" if type(called).__module__.startswith("typedeqx.nn") else "model"


def _model_call(
    arguments: dict[str, Any] | None,
    value: Any,
    expression: str,
    mapped: int,
    callee: str,
) -> str | None:
    """`jax.vmap(model)(x)`, with `in_axes` when the call has more than one
    argument; `None` when `value` is not one of the call's own arguments."""
    if arguments is None:
        return None
    names = [n for n, v in arguments.items() if v is not None]
    hits = [n for n in names if arguments[n] is value]
    if len(hits) != 1:
        return None
    (hit,) = hits
    if len(names) == 1:
        return vmap_code(callee, mapped, expression)
    axes = ", ".join("0" if n == hit else "None" for n in names)
    rendered = ", ".join(expression if n == hit else n for n in names)
    return vmap_code(callee, mapped, rendered, f", in_axes=({axes})")


def _call_arguments(root: Any) -> dict[str, Any] | None:
    """The positional arguments of the outermost `__call__` of `root` on the stack."""
    frame: FrameType | None = sys._getframe(1)
    found = None
    while frame is not None:
        if frame.f_code.co_name == "__call__" and frame.f_locals.get("self") is root:
            found = frame
        frame = frame.f_back
    if found is None:
        return None
    code = found.f_code
    names = code.co_varnames[1 : code.co_argcount]
    return {n: found.f_locals.get(n) for n in names}


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
