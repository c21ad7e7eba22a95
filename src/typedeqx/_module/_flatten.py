"""Per-class PyTree flatten/unflatten functions, generated once at class creation.

Flattening sits on the dispatch path of every jitted call, so each Module class gets
straight-line functions for its own fields instead of a loop over field metadata.
Unflattening never calls `__init__`: it fills a fresh instance's `__dict__`.
"""

from collections.abc import Sequence
from typing import Any

import jax.tree_util as jtu

# Attributes that `module_update_wrapper` stores on an instance beside its fields;
# they travel in the treedef's auxiliary data so that they survive unflattening.
WRAPPER_FIELD_NAMES = (
    "__module__",
    "__name__",
    "__qualname__",
    "__doc__",
    "__annotations__",
)


def _tuple_src(items: list[str]) -> str:
    return "(" + "".join(f"{item}, " for item in items) + ")"


def wrapper_extras(d: dict[str, Any]) -> Any:
    """The wrapper attributes present in an instance `__dict__`, or `None`."""
    extras = tuple((k, d[k]) for k in WRAPPER_FIELD_NAMES if k in d)
    return extras or None


def register_module_pytree(
    cls: type,
    dynamic: Sequence[str],
    static: Sequence[str],
    slotted: frozenset[str] = frozenset(),
) -> None:
    """Register `cls` as a PyTree node with `dynamic` fields as children.

    **Arguments:**

    - `cls`: the Module class.
    - `dynamic`: names of the fields that are children (leaves or subtrees).
    - `static`: names of the fields kept in the treedef's auxiliary data.
    - `slotted`: the fields stored in `__slots__` rather than the instance
        `__dict__`; they are read with `getattr` and written with
        `object.__setattr__`.
    """
    for name in (*dynamic, *static):
        if not name.isidentifier():
            raise ValueError(f"field name {name!r} is not an identifier")

    def get(n: str) -> str:
        return f"_get(x, {n!r})" if n in slotted else f"d[{n!r}]"

    def put(n: str) -> str:
        return f"_s_{n}" if n in slotted else f"d[{n!r}]"

    get_dynamic = [get(n) for n in dynamic]
    get_static = [get(n) for n in static]
    keyed = [f"(_k{i}, {get(n)})" for i, n in enumerate(dynamic)]
    set_dynamic = "".join(f"{put(n)}, " for n in dynamic)
    set_static = "".join(f"{put(n)}, " for n in static)
    in_dict = len([n for n in (*dynamic, *static) if n not in slotted])
    set_slots = "".join(f"\n    _set(obj, {n!r}, _s_{n})" for n in sorted(slotted))
    statics = "".join(f"{s}, " for s in get_static)
    aux = f"(None if len(d) == {in_dict} else _extras(d), {statics})"
    source = f"""
def flatten(x):
    d = _attr(x, "__dict__")
    return {_tuple_src(get_dynamic)}, {aux}

def flatten_with_keys(x):
    d = _attr(x, "__dict__")
    return {_tuple_src(keyed)}, {aux}

def unflatten(aux, children):
    obj = _new(_cls)
    d = _attr(obj, "__dict__")
    {f"({set_dynamic}) = children" if dynamic else "pass"}
    (extras, {set_static}) = aux
    if extras is not None:
        d.update(extras){set_slots}
    return obj
"""
    scope: dict[str, Any] = {
        "_new": object.__new__,
        # Not `x.__dict__`: that would go through `Module.__getattribute__`.
        "_attr": object.__getattribute__,
        "_cls": cls,
        "_get": getattr,
        "_set": object.__setattr__,
        "_extras": wrapper_extras,
    }
    scope.update({f"_k{i}": jtu.GetAttrKey(n) for i, n in enumerate(dynamic)})
    exec(compile(source, f"<typedeqx flatten {cls.__qualname__}>", "exec"), scope)
    jtu.register_pytree_with_keys(
        cls,
        scope["flatten_with_keys"],
        scope["unflatten"],
        flatten_func=scope["flatten"],
    )
