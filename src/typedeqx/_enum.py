"""`Enumeration`: enums whose members are PyTrees (an int32 index and a static
reference to their class), so that they can pass through `jit`, `vmap`, `lax.cond`
and the like, and be compared, selected between and turned into runtime errors.

Members are declared as class attributes whose values are their messages:

```python
import typedeqx

class Result(typedeqx.Enumeration):
    success = ""
    diverged = "The solver diverged."

assert Result.diverged != Result.success
```

A subclass holds its parents' members too (with its own indices: `promote` maps a
parent's member onto the subclass).
"""

import warnings
from typing import Any, NoReturn

import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer

from ._module import Module, field
from ._runtime_errors import branched_error_if

# Class methods of every enumeration, so not usable as member names.
_RESERVED = ("promote", "where")


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class EnumerationItem(Module):
    """One member of an enumeration: an int32 index (an array, so possibly traced)
    into the messages of `_enumeration`. Got from the class (`Color.red`), never
    built by hand."""

    _value: Any
    _enumeration: Any = field(static=True)

    def __init__(self, value: Any, enumeration: type) -> None:
        self._value = value
        self._enumeration = enumeration

    def _same_enumeration(self, other: object) -> "EnumerationItem":
        if (
            isinstance(other, EnumerationItem)
            and other._enumeration is self._enumeration
        ):
            return other
        name = _qualified_name(self._enumeration)
        raise ValueError(
            f"An item of {name} can only be compared with another item of {name}; "
            f"got {other!r}. Compare with a member such as `{name}.<member>` (use "
            "`promote` to turn a parent enumeration's item into a subclass's)."
        )

    def __eq__(self, other: object) -> Any:
        other = self._same_enumeration(other)
        with jax.ensure_compile_time_eval():
            return jnp.asarray(self._value == other._value)

    def __ne__(self, other: object) -> Any:
        other = self._same_enumeration(other)
        with jax.ensure_compile_time_eval():
            return jnp.asarray(self._value != other._value)

    def __repr__(self) -> str:
        return f"{_qualified_name(self._enumeration)}<{self._enumeration[self]}>"

    def error_if(self, token: Any, pred: Any) -> Any:
        """Raise a runtime error whose message is this item's, if `pred` is true.

        See `typedeqx.error_if` for how errors behave.

        **Arguments:**

        - `token`: a PyTree holding at least one array; the check runs after it is
            computed and before the returned value is used.
        - `pred`: a boolean, or a boolean array of any shape; the error fires if
            any element is true.

        **Returns:**

        `token`, unchanged.
        """
        messages = self._enumeration._index_to_message
        return branched_error_if(token, pred, self._value, messages)

    def is_traced(self) -> bool:
        """Whether the index of this item is a tracer (so its message is unknown
        until the program runs)."""
        return isinstance(self._value, Tracer)


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _add_member(
    cls: type,
    name: str,
    message: str,
    items: dict[str, EnumerationItem],
    messages: list[str],
) -> int:
    """Add (or, for a name already there, update) one member; returns its index."""
    if not isinstance(message, str):
        raise TypeError(
            f"Enumeration member {cls.__qualname__}.{name} must be assigned its "
            f"message as a string; got {type(message).__name__} {message!r}. Write "
            f'`{name} = "<message>"` (an empty string for no message).'
        )
    existing = items.get(name)
    if existing is None:
        index = len(messages)
        items[name] = EnumerationItem(np.array(index, dtype=np.int32), cls)
        messages.append(message)
        return index
    index = int(existing._value)
    if messages[index] != message:
        warnings.warn(
            f"Enumeration {cls.__qualname__} inherits member {name!r} with two "
            f"different messages, {messages[index]!r} and {message!r}; using the "
            "latest. Give the members distinct names if both are meant.",
            UserWarning,
            stacklevel=4,
        )
    messages[index] = message
    return index


def _describe(items: dict[str, EnumerationItem], messages: list[str]) -> str:
    lines = ["An enumeration (a typedeqx.Enumeration) with the members:", ""]
    for name, item in items.items():
        message = messages[int(item._value)].replace("\n", "\n    ")
        lines.append(f"- `{name}`: {message}" if message else f"- `{name}`")
    return "\n".join(lines)


class _EnumerationMeta(type):
    """Turns the class body of an enumeration into its members."""

    _name_to_item: dict[str, EnumerationItem]
    _index_to_message: list[str]
    _base_offsets: dict[type, np.ndarray[Any, Any]]

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]
    ) -> "_EnumerationMeta":
        is_root = not bases
        kept = {k: v for k, v in namespace.items() if is_root or _is_dunder(k)}
        declared = {k: v for k, v in namespace.items() if k not in kept}
        for reserved in _RESERVED:
            if reserved in declared:
                raise ValueError(
                    f"Enumeration {name} declares a member named {reserved!r}, "
                    f"which would hide the class method `{name}.{reserved}`. "
                    "Rename the member."
                )
        cls = super().__new__(mcs, name, bases, kept)
        items: dict[str, EnumerationItem] = {}
        messages: list[str] = []
        offsets: dict[type, np.ndarray[Any, Any]] = {}
        cls._name_to_item = items
        cls._index_to_message = messages
        cls._base_offsets = offsets
        for base in bases:
            for ancestor in base.__mro__:
                # Plain mixins contribute no members (Equinox allows them too).
                if not isinstance(ancestor, _EnumerationMeta) or ancestor in offsets:
                    continue
                if ancestor is Enumeration:  # the root, with no members
                    continue
                offset = np.zeros(len(ancestor._index_to_message), np.int32)
                for member, item in ancestor._name_to_item.items():
                    old = int(item._value)
                    message = ancestor._index_to_message[old]
                    offset[old] = _add_member(cls, member, message, items, messages)
                offsets[ancestor] = offset
        for member, message in declared.items():
            _add_member(cls, member, message, items, messages)
        if cls.__dict__.get("__doc__") is None:
            cls.__doc__ = _describe(items, messages)
        return cls

    def __getattr__(cls, name: str) -> EnumerationItem:
        # Only called when ordinary lookup fails: members live here, not on the class.
        try:
            return cls._name_to_item[name]
        except KeyError:
            raise AttributeError(
                f"Enumeration {cls.__qualname__} has no member {name!r}; its members "
                f"are {list(cls._name_to_item)}."
            ) from None

    def __getitem__(cls, item: EnumerationItem) -> str:
        """The message of `item`: `"traced"` if its index is traced, and an array of
        messages (as a string) if it is batched."""
        if not isinstance(item, EnumerationItem):
            by_name = (
                f" To look a member up by name, use `getattr({cls.__qualname__}, "
                f"{item!r})`."
                if isinstance(item, str)
                else ""
            )
            raise ValueError(
                f"Indexing enumeration {cls.__qualname__} takes one of its items, "
                f"such as `{cls.__qualname__}[{cls.__qualname__}.<member>]`, and "
                f"gives its message; got {type(item).__name__}.{by_name}"
            )
        if item._enumeration is not cls:
            raise ValueError(
                f"Indexing enumeration {cls.__qualname__} takes one of its own "
                f"items; got an item of {item._enumeration.__qualname__}. Use "
                f"`{cls.__qualname__}.promote` to convert a parent's item."
            )
        value = item._value
        if isinstance(value, Tracer):
            return "traced"
        if isinstance(value, (np.ndarray, jax.Array)):
            lookup = np.vectorize(lambda i: cls._index_to_message[i])
            return str(lookup(np.asarray(value)))
        return "unknown"  # a placeholder leaf, such as `None` or an `object()`

    def __len__(cls) -> int:
        return len(cls._name_to_item)

    def __iter__(cls) -> NoReturn:
        # Without this, Python would iterate through `__getitem__(0)`, and the user
        # would read an indexing error. (A ValueError, as Equinox raises then.)
        raise ValueError(
            f"Cannot iterate over enumeration {cls.__qualname__}: an enumeration is "
            f"not a sequence. Its members are {list(cls._name_to_item)}; refer to "
            f"one as `{cls.__qualname__}.<member>`."
        )

    def __instancecheck__(cls, value: object) -> bool:
        return isinstance(value, EnumerationItem) and value._enumeration is cls


class Enumeration(metaclass=_EnumerationMeta):
    """Enumerations that work under JAX transformations.

    Members are class attributes whose values are their messages, and are looked
    up on the class; they are PyTrees, so they pass through `jit`:

    ```python
    >>> import jax
    >>> import typedeqx as eqx
    >>> class Result(eqx.Enumeration):
    ...     success = ""
    ...     diverged = "The solver diverged."
    >>> Result.success == Result.diverged
    Array(False, dtype=bool)
    >>> outcome = jax.jit(lambda r: r)(Result.diverged)
    >>> Result[outcome]
    'The solver diverged.'

    ```

    An item compares (`==`, `!=`, giving a JAX boolean array) only with items of
    the same enumeration; anything else is a `ValueError`. `isinstance(item,
    Result)` tells whether `item` is a member of `Result`, and `len(Result)` counts
    the members. A subclass has its parents' members as well as its own:
    `Sub.promote(item)` turns an item of a parent into the equal item of `Sub`.
    `item.error_if(x, pred)` is `error_if(x, pred, Result[item])`, with the
    message chosen when the program runs.
    """

    @classmethod
    def promote(cls, item: Any) -> Any:
        """Turn an item of a parent enumeration into the same member of this one.

        **Arguments:**

        - `item`: an item of a strict superclass of this enumeration.

        **Returns:**

        The item of this enumeration with the same name.
        """
        if not isinstance(item, EnumerationItem):
            raise ValueError(
                f"{cls.__qualname__}.promote takes an enumeration item; got "
                f"{type(item).__name__}."
            )
        parent = item._enumeration
        if parent is cls or not issubclass(cls, parent):
            raise ValueError(
                f"{cls.__qualname__}.promote converts items of a parent enumeration; "
                f"{parent.__qualname__} is not a strict superclass of "
                f"{cls.__qualname__}."
            )
        with jax.ensure_compile_time_eval():
            value = jnp.asarray(cls._base_offsets[parent])[item._value]
        return EnumerationItem(value, cls)

    @classmethod
    def where(cls, pred: Any, a: Any, b: Any) -> Any:
        """Choose between two items of this enumeration, like `jnp.where`.

        **Arguments:**

        - `pred`: a scalar boolean (array).
        - `a`: an item of this enumeration, chosen where `pred` is true.
        - `b`: an item of this enumeration, chosen where `pred` is false.

        **Returns:**

        `a` if `pred` else `b`, as an item of this enumeration.
        """
        if jnp.shape(pred) != () or jnp.result_type(pred) != jnp.bool_:
            raise ValueError(
                f"{cls.__qualname__}.where needs a scalar boolean predicate; got "
                f"shape {jnp.shape(pred)} and dtype {jnp.result_type(pred)}. Reduce "
                "it with `jnp.any` or `jnp.all`, or `vmap` the call."
            )
        for item in (a, b):
            if not isinstance(item, cls):
                raise ValueError(
                    f"Arguments to {_qualified_name(cls)}.where(...) must be members "
                    f"of {_qualified_name(cls)}; got {item!r}."
                )
        if a._value is b._value:
            return a
        with jax.ensure_compile_time_eval():
            value = jnp.where(pred, a._value, b._value)
        return EnumerationItem(value, cls)
