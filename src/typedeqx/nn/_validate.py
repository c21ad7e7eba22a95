"""Checks on a layer's configuration, made once at construction.

Every check raises a `ValueError` (the type Equinox's layers raise for a bad
argument) whose message names the layer and argument as the user wrote them,
`Layer(name=...)`, the rule, and the value received.
"""

from collections.abc import Sequence
from typing import Any


def is_int(value: Any) -> bool:
    """Whether `value` is an int; `bool` is a subclass of `int` but never a size."""
    return isinstance(value, int) and not isinstance(value, bool)


def int_at_least(
    layer: str, name: str, value: Any, minimum: int, wording: str | None = None
) -> int:
    """`value`, checked to be an int (not a bool) of at least `minimum`.

    **Arguments:**

    - `layer`, `name`: the layer's class name and the argument's name.
    - `value`: what the user passed.
    - `minimum`: the least value allowed.
    - `wording`: the rule as the message states it; default `"an int >= minimum"`.

    **Returns:**

    `value`, typed as an `int`.
    """
    if not is_int(value) or value < minimum:
        rule = f"an int >= {minimum}" if wording is None else wording
        raise ValueError(f"{layer}({name}=...) must be {rule}; got {value!r}.")
    result: int = value
    return result


def positive_int(layer: str, name: str, value: Any) -> int:
    """`value`, checked to be an int of at least 1."""
    return int_at_least(layer, name, value, 1)


def per_axis(
    layer: str, name: str, value: Any, num_spatial_dims: int, minimum: int
) -> tuple[int, ...]:
    """An int (for every axis) or a sequence of `num_spatial_dims` ints, as a
    tuple of `num_spatial_dims` ints, each checked to be at least `minimum`."""
    values = (value,) * num_spatial_dims if is_int(value) else value
    if (
        not isinstance(values, Sequence)
        or isinstance(values, str)
        or len(values) != num_spatial_dims
        or not all(is_int(v) and v >= minimum for v in values)
    ):
        raise ValueError(
            f"{layer}({name}=...) must be an int or a sequence of "
            f"{num_spatial_dims} ints (one per spatial axis), each >= {minimum}; "
            f"got {value!r}."
        )
    return tuple(values)


def number_at_least(layer: str, name: str, value: Any, minimum: float) -> None:
    """A `ValueError` unless `value` is a Python number of at least `minimum`."""
    if not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(
            f"{layer}({name}=...) must be a number >= {minimum}; got {value!r}."
        )


def probability(layer: str, name: str, value: Any) -> None:
    """A `ValueError` when `value` is a Python number outside `[0, 1]`; anything
    else (an array, a tracer) is left to the computation that uses it."""
    if isinstance(value, (int, float)) and not 0 <= value <= 1:
        raise ValueError(
            f"{layer}({name}=...) is a probability and must lie in [0, 1]; "
            f"got {value!r}."
        )
