"""The `State` contract of a stateful layer: every `StateIndex` field of the layer
has an entry in the `State` it is given, with the structure, shapes and dtypes of
the layer's own initial state.

A `State` made for another model, or for a layer of another mode, size or dtype,
would otherwise fail deep inside JAX (a broadcast, a `dot_general`), raise a bare
`KeyError`, or, when the sizes happen to broadcast, silently store statistics of
another shape. Checked at trace time (shapes and dtypes only), so a jitted call
costs nothing more in the steady state.
"""

from typing import Any

from .._contracts import ShapeError, locate_module, located
from ._stateful import State, StateIndex, initial_spec, state_spec

# Entries of the other State named in a message, at most.
_LISTED = 3


class MissingStateError(ShapeError, KeyError):
    """A stateful layer was given a `State` with no entry for one of its
    `StateIndex`s. (Both a `ShapeError` and the `KeyError` Equinox raises.)"""

    def __str__(self) -> str:
        # KeyError would quote the message; a ShapeError renders it as is.
        return str(self.args[0])


def _indices(layer: Any) -> list[tuple[str, StateIndex[Any]]]:
    return [(n, v) for n, v in vars(layer).items() if isinstance(v, StateIndex)]


def _others(entries: dict[object, Any], marker: object) -> str:
    names = [k for k in entries if isinstance(k, str)]
    if isinstance(marker, str):
        # Entries of the same layer first: a layer of another mode shows here.
        owner = marker.rpartition(".")[0] + "."
        names.sort(key=lambda k: not k.startswith(owner))
    if not entries:
        return "it is empty"
    if not names:
        return f"it holds {len(entries)} other entries"
    shown = ", ".join(f"{k}: {state_spec(entries[k])!r}" for k in names[:_LISTED])
    more = len(entries) - min(len(names), _LISTED)
    return f"it holds {shown}" + (f" and {more} more" if more else "")


def _fix(marker: object, root: Any) -> str:
    # `make_with_state` names each entry by its path from the model it built; the
    # class is named only when that model is also the one being called.
    built = marker.split(".")[0].split("[")[0] if isinstance(marker, str) else None
    model = built if built == type(root).__name__ else "Model"
    return (
        "pass the State made together with this model, "
        f"`model, state = eqx.nn.make_with_state({model})(...)`, or the State its "
        "previous call returned."
    )


def _error(
    cls: type[ShapeError],
    layer: Any,
    index: StateIndex[Any],
    got: str,
    expected: str,
    detail: str,
) -> ShapeError:
    _, root = locate_module(layer)
    error = cls(
        owner=type(layer).__name__,
        member="__call__",
        parameter="state",
        role="argument",
        expected=expected,
        got=got,
        detail=detail,
        bindings={},
        bound_by={},
        hint=_fix(index.marker, root),
        origin=layer,
    )
    return located(error)


def _contract(indices: list[tuple[str, StateIndex[Any]]]) -> str:
    return "a State holding " + ", ".join(
        f"{name}: {initial_spec(index)!r}" for name, index in indices
    )


def check_state(layer: Any, state: State) -> None:
    """Raise a `ShapeError` unless `state` holds `layer`'s entries, each with the
    structure, shapes and dtypes of the layer's initial state.

    **Arguments:**

    - `layer`: a stateful layer; its `StateIndex` fields are checked.
    - `state`: the `State` it was called with.
    """
    entries = state._entries()
    indices = _indices(layer)
    for name, index in indices:
        if index.marker not in entries:
            got = f"a State without the entry {name}"
            detail = f"it was made for another model: {_others(entries, index.marker)}"
            raise _error(
                MissingStateError, layer, index, got, _contract(indices), detail
            )
        actual = state_spec(entries[index.marker])
        if actual != initial_spec(index):
            got = f"a State whose {name} is {actual!r}"
            detail = (
                "it was made for another model, or for a layer of another size or "
                "dtype; a State never changes the shapes of its entries"
            )
            raise _error(ShapeError, layer, index, got, _contract(indices), detail)
