"""What a contract says about values that passed it: the dimension name of each
axis (`f32[16,64]` is `(seq, d_model)`), for `typedeqx.summary` and the treescope
rendering. Slow-path code, only run when asked; the checked call never calls it.
"""

from typing import Any

from ._bindings import Bindings
from ._dims import ArraySpec
from ._fixes import array_options
from ._nodes import Node
from ._plan import MISSING, class_plan


def _axis_names(spec: ArraySpec, rank: int) -> tuple[str, ...]:
    def name(axis: Any) -> str:
        if axis.kind in ("named", "symbolic"):
            return str(axis.name)
        return str(axis.size) if axis.kind == "fixed" else "_"

    middle = rank - len(spec.prefix) - len(spec.suffix)
    variadic: tuple[str, ...] = ()
    if middle > 0:
        label = "*" + spec.variadic[0] if spec.variadic is not None else "..."
        variadic = (label,)
    return (
        tuple(name(a) for a in spec.prefix)
        + variadic
        + tuple(name(a) for a in spec.suffix)
    )


def names_for(node: Node, value: Any, b: Bindings) -> tuple[str, ...] | None:
    """The axis names of the first array alternative of `node` that `value` matches
    (binding into `b`), or `None` when `value` is not an array or none matches."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if not isinstance(shape, tuple) or dtype is None:
        return None
    for option in array_options(node, b):
        scratch = b.copy()
        if option.check_abstract(shape, dtype, scratch) is None:
            b.commit(scratch)
            return _axis_names(option.spec, len(shape))
    return None


def call_dimensions(
    method: Any, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...] | None] | None:
    """The dimension names a checked method's contract gives its array arguments
    and its output, for a call that passed.

    **Arguments:**

    - `method`: the function found in the class body (a checked method, or not).
    - `obj`: the module it was called on.
    - `args`, `kwargs`: the call's arguments (without `obj`).
    - `out`: what it returned.

    **Returns:**

    `(argument name -> axis names, output axis names or None)`, or `None` when
    `method` is not checked (or the call does not pass its contract).
    """
    plan_for = getattr(method, "__typedeqx_plan__", None)
    if plan_for is None:
        return None
    plan = plan_for(type(obj))
    b = Bindings()
    if plan.fields is not None and plan.fields.bind_fields(obj, b) is not None:
        return None
    values = plan.call.values(args, kwargs)
    b.arguments.update(
        {s.name: v for s, v in zip(plan.call.slots, values) if v is not MISSING}
    )
    names: dict[str, tuple[str, ...]] = {}
    for slot, value in zip(plan.call.slots, values):
        found = names_for(slot.node, value, b)
        if found is not None:
            names[slot.name] = found
    returned = None if plan.ret is None else names_for(plan.ret.node, out, b)
    return names, returned


def field_dimensions(obj: Any) -> dict[str, tuple[str, ...]]:
    """Field name -> the axis names its annotation gives the array it holds, for a
    module of a checked class (empty for an unchecked one)."""
    cls = type(obj)
    if getattr(cls, "__typedeqx_check_fields__", None) is None:
        return {}
    b = Bindings()
    out: dict[str, tuple[str, ...]] = {}
    for slot in class_plan(cls).slots:
        if slot.role == "field":
            found = names_for(slot.node, obj.__dict__.get(slot.name), b)
            if found is not None:
                out[slot.name] = found
    return out
