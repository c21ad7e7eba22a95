"""Index checks for layers that index an array with run-time values: JAX clamps
an out-of-range gather, so `weight[100]` on a table of 65 rows silently returns
the last row. With value checks on, such an index raises instead."""

from typing import Any

import jax.numpy as jnp
from jax.core import Tracer

from .._contracts import VALUES, checks_enabled, locate_module
from ._error import batch_and_step
from ._guard import guard


def check_indices(module: Any, x: Any, size: int, argument: str = "x") -> Any:
    """`x` unchanged; with value checks on, it raises `ValueCheckError` (now, or
    when the computation runs) if an element of `x` is outside `[0, size)`.

    **Arguments:**

    - `module`: the layer indexing with `x` (named in the message).
    - `x`: an integer index or integer array of any shape.
    - `size`: the length of the axis `x` indexes.
    - `argument`: the name of the argument `x` in the layer's call.

    **Returns:**

    `x`.
    """
    if checks_enabled() is not VALUES:
        return x
    ids = jnp.asarray(x)
    bad = (ids < 0) | (ids >= size)
    flat = jnp.argmax(bad.ravel()) if ids.ndim else 0
    first = ids.ravel()[flat] if ids.ndim else ids
    count = jnp.sum(bad, dtype=jnp.int32)
    traced = isinstance(count, Tracer)
    path = locate_module(module)[0] if traced else None
    shape = ids.shape

    def render(_: int, n: int, batch: Any, step: Any, extra: Any) -> tuple[str, str]:
        where = path if path is not None else locate_module(module)[0]
        value, position = int(extra[0]), int(extra[1])
        at = f" at position {_unravel(position, shape)}" if shape else ""
        return (
            f"`{where}` got an index out of range: {argument}{at} is {value}, "
            f"outside [0, {size}) ({n} of {max(ids.size, 1)} indices out of range)."
            " JAX would clamp it and silently return another row; pass indices "
            f"below {size}, or make the table larger." + batch_and_step(batch, step),
            where,
        )

    extra = jnp.stack([jnp.asarray(first, jnp.int32), jnp.asarray(flat, jnp.int32)])
    return guard(x, [count], render, [extra])


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in jnp.unravel_index(flat, shape))
