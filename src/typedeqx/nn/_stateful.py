"""State for stateful layers: `StateIndex`, `State`, `make_with_state`,
`delete_init_state` and the `StatefulLayer` marker class."""

import types
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from .._contracts import describe
from .._module import Module, field
from .._tree import tree_at, tree_equal

# `jax.ShapeDtypeStruct` is unannotated; this gives it the type used here.
_struct: Callable[..., Any] = jax.ShapeDtypeStruct

_V = TypeVar("_V")
_P = ParamSpec("_P")
_T = TypeVar("_T")


class _Deleted(Module):
    """Stands in for an initial value that `delete_init_state` removed, keeping its
    structure, shapes and dtypes (see `state_spec`), which a layer checks the `State`
    it is given against."""

    spec: Any = field(static=True)

    def __init__(self, spec: Any):
        self.spec = spec


def _leaf_spec(leaf: Any) -> tuple[tuple[int, ...], Any]:
    # As `State` stores it: `jnp.asarray` of the leaf (so a Python scalar is i32/f32).
    array = leaf if isinstance(leaf, jax.Array) else jnp.asarray(leaf)
    return tuple(array.shape), array.dtype


class StateSpec:
    """The structure, shapes and dtypes of a state value (hashable; printed as
    `(f32[3], f32[3])`)."""

    __slots__ = ("leaves", "treedef")

    def __init__(self, treedef: Any, leaves: tuple[tuple[tuple[int, ...], Any], ...]):
        self.treedef = treedef
        self.leaves = leaves

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StateSpec) and (self.treedef, self.leaves) == (
            other.treedef,
            other.leaves,
        )

    def __hash__(self) -> int:
        return hash((self.treedef, self.leaves))

    def __repr__(self) -> str:
        parts = [describe(_struct(s, d)) for s, d in self.leaves]
        if self.treedef.num_leaves == 1 and self.treedef.num_nodes == 1:
            return parts[0]
        return f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"


def state_spec(value: Any) -> StateSpec:
    """The structure, shapes and dtypes of `value`, a PyTree of arrays (or tracers,
    or Python scalars): one `(shape, dtype)` per leaf."""
    leaves, treedef = jtu.tree_flatten(value)
    return StateSpec(treedef, tuple(_leaf_spec(leaf) for leaf in leaves))


class StateIndex(Module, Generic[_V]):
    """A key into a [`State`][], together with the initial value of that state.

    A stateful layer stores one `StateIndex` per piece of state as a field, reads
    the current value with `state.get(index)` and writes a new one with
    `state = state.set(index, value)`.
    """

    # An `object()` until `make_with_state` replaces it with the index's path in
    # the model, so that two models built the same way share their state keys.
    marker: object = field(static=True)
    init: Any

    def __init__(self, init: _V):
        """**Arguments:**

        - `init`: the initial value of the state: a PyTree of arrays.
        """
        if isinstance(init, types.FunctionType):
            raise ValueError(
                "StateIndex(init=...) takes the initial value itself, not a function "
                "that creates it; got a function. Pass `init()` instead."
            )
        self.marker = object()
        self.init = init


def _is_index(x: Any) -> bool:
    return isinstance(x, StateIndex)


_STALE = (
    "this State was already updated: `state.set(...)` and `state.update(...)` "
    "return a new State and invalidate the old one, so that a stale state is "
    "never used by accident. Use the returned State (`state = state.set(...)`); "
    "to keep an old state on purpose, copy it first with "
    "`jax.tree_util.tree_map(lambda x: x, state)`."
)


def _check_index(item: Any) -> None:
    if type(item) is not StateIndex:
        raise ValueError(
            f"State keys must be StateIndex instances; got {type(item).__name__}."
        )


class _MissingEntry(KeyError):
    """`State.get` for an index the State has no entry for: the `KeyError` Equinox
    raises, with a message that says why and what to pass instead."""

    def __init__(self, marker: object, state: dict[object, Any]):
        names = [repr(k) for k in state if isinstance(k, str)][:3]
        held = f"it holds {', '.join(names)}" if names else f"it holds {len(state)}"
        if names and len(state) > len(names):
            held += f" and {len(state) - len(names)} more"
        elif not names:
            held += " entries"
        name = repr(marker) if isinstance(marker, str) else "of this StateIndex"
        super().__init__(
            f"State.get: no entry {name} in this State ({held}): it was made for "
            "another model. Pass the State made together with this model by "
            "`eqx.nn.make_with_state`, or the State its previous call returned."
        )

    def __str__(self) -> str:
        return str(self.args[0])


def _structure(value: Any) -> Any:
    return jax.eval_shape(lambda: value)


@jtu.register_pytree_node_class
class State:
    """The state of a model (say, the running statistics of its `BatchNorm`
    layers): a mapping from [`StateIndex`][] to PyTrees of arrays. A PyTree.

    Build it with [`make_with_state`][]. `set` and `update` return a new `State`
    and invalidate the old one; using an invalidated state raises `ValueError`.
    """

    _state: dict[object, Any] | None

    def __init__(self, model: Any):
        """**Arguments:**

        - `model`: any PyTree; the initial value of every `StateIndex` in it is
            collected.
        """
        state: dict[object, Any] = {}
        for leaf in jtu.tree_leaves(model, is_leaf=_is_index):
            if _is_index(leaf):
                if isinstance(leaf.init, _Deleted):
                    raise ValueError(
                        "State(model): the model's initial states were deleted (by "
                        "`make_with_state` or `delete_init_state`). Build models with "
                        "`model, state = make_with_state(Model)(...)` instead."
                    )
                state[leaf.marker] = jtu.tree_map(jnp.asarray, leaf.init)
        self._state = state

    @classmethod
    def _from_dict(cls, state: dict[object, Any]) -> "State":
        new = object.__new__(cls)
        new._state = state
        return new

    def _entries(self) -> dict[object, Any]:
        """The live mapping from markers to values (for the layers' state checks)."""
        return self._live()

    def _live(self) -> dict[object, Any]:
        if self._state is None:
            raise ValueError(f"State: {_STALE}")
        return self._state

    def get(self, item: StateIndex[_V]) -> _V:
        """**Arguments:** `item`, a `StateIndex`. **Returns:** its current value."""
        state = self._live()
        _check_index(item)
        if item.marker not in state:
            raise _MissingEntry(item.marker, state)
        value: _V = state[item.marker]
        return value

    def set(self, item: StateIndex[_V], value: _V) -> "State":
        """Sets the value of `item`, and returns the updated state; `self` becomes
        invalid.

        **Arguments:**

        - `item`: a `StateIndex`.
        - `value`: the new value, with the same structure, shapes and dtypes as the
            old one.

        **Returns:**

        A new `State`.
        """
        state = self._live()
        _check_index(item)
        value = jtu.tree_map(jnp.asarray, value)
        old = _structure(state[item.marker])
        new = _structure(value)
        if tree_equal(old, new) is not True:
            raise ValueError(
                "State.set: the new value must have the same structure, shapes and "
                f"dtypes as the old one; old {old}, new {new}. Cast or reshape the "
                "new value to match."
            )
        return self._replace(state, {item.marker: value})

    def substate(self, pytree: Any) -> "State":
        """**Arguments:** `pytree`, any PyTree (typically part of the model).

        **Returns:** a smaller `State` holding only the states of the `StateIndex`s
        in `pytree`.
        """
        state = self._live()
        leaves = jtu.tree_leaves(pytree, is_leaf=_is_index)
        return State._from_dict(
            {x.marker: state[x.marker] for x in leaves if _is_index(x)}
        )

    def update(self, substate: "State") -> "State":
        """Writes back every value of `substate` (as made by `substate`); `self`
        becomes invalid.

        **Arguments:** `substate`, a `State` whose keys are a subset of `self`'s.

        **Returns:** a new `State`.
        """
        state = self._live()
        if type(substate) is not State:
            raise ValueError(
                "State.update(substate=...) takes a State; got "
                f"{type(substate).__name__}."
            )
        values = substate._live()
        unknown = [k for k in values if k not in state]
        if unknown:
            raise ValueError(
                "State.update(substate=...): the substate has keys this state lacks "
                f"({unknown}); make it with `state.substate(...)`."
            )
        return self._replace(state, values)

    def _replace(self, state: dict[object, Any], values: dict[object, Any]) -> "State":
        new = State._from_dict({**state, **values})
        self._state = None
        return new

    def __repr__(self) -> str:
        if self._state is None:
            return "State(~old~)"
        items = ", ".join(f"{k!r}: {_structure(v)}" for k, v in self._state.items())
        return f"State({items})"

    def tree_flatten(self) -> tuple[tuple[Any, ...], tuple[object, ...]]:
        state = self._live()
        keys = tuple(state)
        return tuple(state[k] for k in keys), keys

    @classmethod
    def tree_unflatten(cls, keys: tuple[object, ...], values: Any) -> "State":
        return cls._from_dict(dict(zip(keys, values, strict=True)))


def initial_spec(index: StateIndex[Any]) -> Any:
    """The `state_spec` of `index`'s initial value, kept after it was deleted."""
    init = index.init
    return init.spec if isinstance(init, _Deleted) else state_spec(init)


def _delete_init(x: Any) -> Any:
    if not _is_index(x) or isinstance(x.init, _Deleted):
        return x
    return tree_at(lambda i: i.init, x, _Deleted(state_spec(x.init)))


def delete_init_state(model: _T) -> _T:
    """Removes the copy of the initial state kept in every `StateIndex`, to save
    memory once the `State` has been made.

    **Arguments:**

    - `model`: any PyTree.

    **Returns:**

    A copy of `model` whose `StateIndex`s hold no initial value.
    """
    stripped: _T = jtu.tree_map(_delete_init, model, is_leaf=_is_index)
    return stripped


def _name_indices(model: Any) -> Any:
    # A marker made from the index's path is the same for two models built the
    # same way, so a state made for one works with the other (and serialises).
    leaves, treedef = jtu.tree_flatten_with_path(model, is_leaf=_is_index)
    named = []
    for path, leaf in leaves:
        if _is_index(leaf):
            leaf = StateIndex(leaf.init)
            # A new index that nothing else has seen: its field is written directly
            # (the field guard refuses assignment to a built Module).
            marker = type(model).__name__ + jtu.keystr(path)
            object.__getattribute__(leaf, "__dict__")["marker"] = marker
        named.append(leaf)
    return jtu.tree_unflatten(treedef, named)


def make_with_state(make_model: Callable[_P, _T]) -> Callable[_P, tuple[_T, State]]:
    """Wraps a model constructor so that it returns the model and its state.

    ```python
    import typedeqx

    model, state = typedeqx.nn.make_with_state(typedeqx.nn.BatchNorm)(
        3, "batch", mode="batch"
    )
    ```

    **Arguments:**

    - `make_model`: a callable that returns a PyTree, typically a model class.

    **Returns:**

    A callable with the same arguments, returning `(model, state)`: the model with
    its initial states removed, and a [`State`][] holding them.
    """

    def make(*args: _P.args, **kwargs: _P.kwargs) -> tuple[_T, State]:
        model = _name_indices(make_model(*args, **kwargs))
        state = State(model)
        stripped: _T = delete_init_state(model)
        return stripped, state

    return make


class _NoState(Module):
    """The default of a layer's `state` argument: none was passed, so the layer
    returns no state either."""

    def __repr__(self) -> str:
        return "<no state>"


# A Module (a PyTree with no leaves), so that it can stand wherever a state may.
NO_STATE: Any = _NoState()


class StatefulLayer(Module):
    """Marks a layer that may be called as `(y, state) = layer(x, state)`;
    [`Sequential`][] threads state through those whose `is_stateful()` is true.

    Subclasses define `__call__`.
    """

    def is_stateful(self) -> bool:
        """**Returns:** whether to call this layer with a state (default `True`)."""
        return True
