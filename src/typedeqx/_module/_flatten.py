"""Per-class PyTree flatten/unflatten functions, generated once at class creation.

Flattening sits on the dispatch path of every jitted call, so each Module class gets
straight-line functions for its own fields instead of a loop over field metadata.
Unflattening never calls `__init__`: it fills a fresh instance's `__dict__`.
"""

from collections.abc import Sequence
from typing import Any

import jax.tree_util as jtu


def _tuple_src(items: list[str]) -> str:
    return "(" + "".join(f"{item}, " for item in items) + ")"


def register_module_pytree(
    cls: type, dynamic: Sequence[str], static: Sequence[str]
) -> None:
    """Register `cls` as a PyTree node with `dynamic` fields as children.

    **Arguments:**

    - `cls`: the Module class.
    - `dynamic`: names of the fields that are children (leaves or subtrees).
    - `static`: names of the fields kept in the treedef's auxiliary data.
    """
    for name in (*dynamic, *static):
        if not name.isidentifier():
            raise ValueError(f"field name {name!r} is not an identifier")
    get_dynamic = [f"d[{n!r}]" for n in dynamic]
    get_static = [f"d[{n!r}]" for n in static]
    keyed = [f"(_k{i}, d[{n!r}])" for i, n in enumerate(dynamic)]
    set_dynamic = "".join(f"d[{n!r}], " for n in dynamic)
    set_static = "".join(f"d[{n!r}], " for n in static)
    source = f"""
def flatten(x):
    d = x.__dict__
    return {_tuple_src(get_dynamic)}, {_tuple_src(get_static)}

def flatten_with_keys(x):
    d = x.__dict__
    return {_tuple_src(keyed)}, {_tuple_src(get_static)}

def unflatten(aux, children):
    obj = _new(_cls)
    d = obj.__dict__
    {f"({set_dynamic}) = children" if dynamic else "pass"}
    {f"({set_static}) = aux" if static else "pass"}
    return obj
"""
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    scope.update({f"_k{i}": jtu.GetAttrKey(n) for i, n in enumerate(dynamic)})
    exec(compile(source, f"<typedeqx flatten {cls.__qualname__}>", "exec"), scope)
    jtu.register_pytree_with_keys(
        cls,
        scope["flatten_with_keys"],
        scope["unflatten"],
        flatten_func=scope["flatten"],
    )
