"""`store_dce` and `inspect_dce`: see which arrays the compiler removed as dead
code. Each stored array passes through a callback that records it when it runs;
an array whose callback never ran was eliminated."""

from collections.abc import Hashable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jax.core import Tracer

from .._filters import combine, is_array, partition
from .._pretty import array_summary, tree_pprint

# JAX leaves it unannotated; typed here so that strict checking accepts the call.
_ShapeDtypeStruct: Any = jax.ShapeDtypeStruct


class _Record:
    """What one call of `store_dce` saw: its PyTree, and the leaves that ran."""

    def __init__(self, treedef: Any, static: Any) -> None:
        self.treedef = treedef
        self.static = static
        self.alive: dict[int, str] = {}


class _Text:
    """A leaf that prints as the given text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


# Per name, the records of every `store_dce` call traced with that name.
_records: dict[Hashable, list[_Record]] = {}


def _under_jit() -> bool:
    return isinstance(jnp.array(1) + 1, Tracer)


def _mark_alive(record: _Record, index: int) -> Any:
    def callback(x: Any) -> Any:
        # Summarised as a JAX array would be: the callback gets a NumPy one.
        record.alive[index] = array_summary(_ShapeDtypeStruct(x.shape, x.dtype))
        return x

    return callback


def store_dce(x: Any, name: Hashable = None) -> Any:
    """The identity, which records whether each array of `x` survives dead code
    elimination; read the record with `inspect_dce`. Use inside `jit`.

    ```python
    >>> import jax
    >>> import typedeqx as eqx
    >>> @jax.jit
    ... def f(x):
    ...     kept, _ = eqx.debug.store_dce((x + 1, x * 2), name="doc")
    ...     return kept
    >>> _ = f(1)
    >>> eqx.debug.inspect_dce(name="doc")
    Found 1 call to `typedeqx.debug.store_dce`.
    Entry 0:
    (i32[], <DCE'd>)

    ```

    **Arguments:**

    - `x`: any PyTree; its arrays are watched and its other leaves ignored.
    - `name`: any hashable value, to tell call sites apart; pass the same to
        `inspect_dce`.

    **Returns:**

    `x`, unchanged.
    """
    if not _under_jit():
        raise RuntimeError(
            "typedeqx.debug.store_dce only means something inside `jit`, where "
            "dead code is eliminated; it was called outside. Call it in a jitted "
            "function."
        )
    dynamic, static = partition(x, is_array)
    leaves, treedef = jtu.tree_flatten(dynamic)
    record = _Record(treedef, static)
    _records.setdefault(name, []).append(record)
    watched = [
        jax.pure_callback(_mark_alive(record, i), leaf, leaf, vmap_method="expand_dims")
        for i, leaf in enumerate(leaves)
    ]
    return combine(jtu.tree_unflatten(treedef, watched), static)


def inspect_dce(name: Hashable = None) -> None:
    """Print, for each `store_dce` call with this `name`, its PyTree with each
    array shown as its shape and dtype if it was computed, or `<DCE'd>` if the
    compiler removed it. Use outside `jit`, after running the jitted function.

    **Arguments:**

    - `name`: the `name` given to `store_dce`.

    **Returns:**

    Nothing; the report goes to standard output.
    """
    if _under_jit():
        raise RuntimeError(
            "typedeqx.debug.inspect_dce reports what ran, so it must be called "
            "outside `jit`, after the jitted function has run; it was called "
            "inside. Move the call out of the jitted function."
        )
    records = _records.get(name, [])
    plural = "" if len(records) == 1 else "s"
    print(f"Found {len(records)} call{plural} to `typedeqx.debug.store_dce`.")
    for i, record in enumerate(records):
        shown = [
            _Text(record.alive.get(j, "<DCE'd>"))
            for j in range(record.treedef.num_leaves)
        ]
        print(f"Entry {i}:")
        tree_pprint(combine(jtu.tree_unflatten(record.treedef, shown), record.static))
