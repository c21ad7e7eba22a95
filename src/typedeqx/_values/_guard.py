"""The run-time test behind every value check: given one count of bad elements
per *entry* (an output, an argument, a cotangent, a set of indices), raise a
`ValueCheckError` for the first entry with a nonzero count.

With concrete counts (eager code) that is a Python loop. With traced counts it is
one `lax.cond` on an unbatched "any", whose taken branch calls back to the host
with every count, batch axes included (`_batched_rule`); the host picks the first
entry in order and the first batch element, and raises. The check is attached to
an array of the computation (its output stands in for that array), so it runs
before anything uses that array and is removed with it if nothing does.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax import lax
from jax.core import Tracer
from jax.custom_batching import custom_vmap

from .._filters import combine, is_array, partition
from .._runtime_errors import hand_over, reraise, unbatched_any
from ._error import ValueCheckError, first_true
from ._loops import Steps, loop_steps, reset_all

# entry index, its count, batch index (or None), loop step (or None), the entry's
# extra values (see `guard`) -> the message, or the message and the module path
Render = Callable[[int, int, Any, Any, Any], Any]


def _error(made: Any) -> ValueCheckError:
    text, path = made if isinstance(made, tuple) else (made, None)
    return ValueCheckError(text, path)


def nonfinite(x: Any) -> Any:
    """How many elements of the array `x` are NaN or infinite (an int32 scalar;
    per example under `vmap`); 0 for an integer or boolean array."""
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return 0
    return jnp.sum(jnp.logical_not(jnp.isfinite(x)), dtype=jnp.int32)


def guard(
    attach: Any,
    counts: Sequence[Any],
    render: Render,
    extras: Sequence[Any] = (),
    loop: tuple[Steps, Any] | None = None,
) -> Any:
    """Return `attach` (a PyTree), checked: raises for the first entry whose count
    is nonzero, now (concrete counts) or when the computation runs. `extras` are
    integer arrays of one shape, `(len(counts), k)` per example, handed to the
    message of the failing entry (the offending index, say). `loop`, a step
    counter and its traced count, says which `lax.scan` step this is; by default
    it is found while tracing (see `_loops.py`)."""
    __tracebackhide__ = True
    traced = [isinstance(c, Tracer) for c in counts] + [
        isinstance(e, Tracer) for e in extras
    ]
    if not any(traced):
        table = np.asarray(extras) if len(extras) else None
        for index, count in enumerate(counts):
            if int(count) > 0:
                extra = None if table is None else table[index]
                raise _error(render(index, int(count), None, None, extra))
        return attach
    dynamic, static = partition(attach, is_array)
    if not jtu.tree_leaves(dynamic):
        return attach  # nothing to attach the check to
    stacked = jnp.stack([jnp.asarray(c, jnp.int32) for c in counts])
    more = jnp.zeros((len(counts), 0), jnp.int32)
    if len(extras):
        more = jnp.stack([jnp.asarray(e, jnp.int32) for e in extras])
    if loop is None:
        steps = loop_steps()
        tick = jnp.zeros((), jnp.int32) if steps is None else steps.tick(stacked)
    else:
        steps, tick = loop
    bad = unbatched_any(stacked > 0)
    try:
        dynamic = _guarded(dynamic, bad, stacked, more, tick, render, steps)
    except (jax.errors.JaxRuntimeError, ValueError) as error:
        # Eager code under `vmap` or `grad`: the callback ran just now.
        reraise(error)
    return combine(dynamic, static)


def _report(render: Render, steps: Any) -> Callable[..., NoReturn]:
    def report(stacked: Any, more: Any, tick: Any) -> NoReturn:
        counts, extras = np.asarray(stacked), np.asarray(more)
        step = None if steps is None else steps.decode(int(np.max(tick)))
        reset_all()
        for index in range(counts.shape[-1]):
            column = counts[..., index]
            batch = first_true(column > 0)
            if batch is not None:
                count = int(column[batch])
                extra = extras[batch][index]
                message = render(index, count, batch or None, step, extra)
                hand_over(_error(message))
        raise AssertionError("a value check fired with no failing entry")

    return report


def _cond(
    x: Any, bad: Any, stacked: Any, more: Any, tick: Any, render: Render, steps: Any
) -> Any:
    def fail() -> Any:
        struct = jax.eval_shape(lambda: x)
        report = _report(render, steps)
        return jax.pure_callback(report, struct, stacked, more, tick)

    return lax.cond(bad, fail, lambda: x)


def _batched_rule(render: Render, steps: Any) -> Callable[..., Any]:
    """Under `vmap`: the check runs on the counts with their batch axis explicit
    (the host sees every example's), and `x` keeps its own batching. Left to
    JAX's rule, the failure branch would batch every leaf of `x`: an unbatched
    cotangent, broadcast there, is then summed over the batch (x batch size)."""

    def rule(size: int, batched: Any, *operands: Any) -> tuple[Any, Any]:
        x, bad, stacked, more, tick = operands
        x_batched, bad_batched, *others = batched
        if bad_batched:
            bad = jnp.any(bad)
        stacked, more, tick = (
            v if b else jnp.broadcast_to(v, (size, *jnp.shape(v)))
            for v, b in zip((stacked, more, tick), others)
        )
        return _vmappable(render, steps)(x, bad, stacked, more, tick), x_batched

    return rule


def _vmappable(render: Render, steps: Any) -> Any:
    @custom_vmap
    def check(x: Any, bad: Any, stacked: Any, more: Any, tick: Any) -> Any:
        return _cond(x, bad, stacked, more, tick, render, steps)

    check.def_vmap(_batched_rule(render, steps))
    return check


@functools.partial(jax.custom_jvp, nondiff_argnums=(5, 6))
def _guarded(
    x: Any, bad: Any, stacked: Any, more: Any, tick: Any, render: Render, steps: Any
) -> Any:
    return _vmappable(render, steps)(x, bad, stacked, more, tick)


@_guarded.defjvp
def _guarded_jvp(
    render: Render, steps: Any, primals: Any, tangents: Any
) -> tuple[Any, Any]:
    # A check is not differentiated: tangents pass through.
    x, bad, stacked, more, tick = primals
    return _guarded(x, bad, stacked, more, tick, render, steps), tangents[0]
