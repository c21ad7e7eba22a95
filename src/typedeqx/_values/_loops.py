"""Which `lax.scan` step a failing check ran in.

A check traced inside the body of a `lax.scan` (found while tracing, from JAX's
`scan` frames on the Python stack: their `length` and `reverse`) also calls back
once per step, unconditionally, to count the steps on the host; the failing
check's report then reads the count of its step. A site counts every step it has
run, so the step is the count taken modulo the loop lengths (nested loops: mixed
radix, innermost fastest). A failure resets every count, since the aborted
computation leaves them mid-loop. Outside a loop nothing of this is traced.

The frames of `jax._src.lax.control_flow.loops.scan` are the one JAX internal this
reads; `tests/test_values_loops.py` fails loudly if they change.
"""

import sys
import weakref
from types import FrameType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

_SCAN_FILE = ("lax", "control_flow", "loops.py")
_LIVE: "weakref.WeakSet[Steps]" = weakref.WeakSet()
_ShapeDtypeStruct: Any = jax.ShapeDtypeStruct  # unannotated in JAX


def _is_scan(frame: Any) -> bool:
    code = frame.f_code
    name, file = code.co_name, code.co_filename
    return bool(name == "scan" and file.endswith("/".join(_SCAN_FILE)))


class Steps:
    """The step counter of one check site inside `lax.scan` loops."""

    def __init__(self, loops: list[tuple[int, bool]]) -> None:
        self.loops = loops  # (length, reverse), outermost first
        self.count = 0
        _LIVE.add(self)

    def tick(self, operand: Any) -> Any:
        """Count one step (traced; `operand` ties the call into the loop body)."""
        struct = _ShapeDtypeStruct((), jnp.int32)
        rank = jnp.ndim(operand)

        def count(value: Any) -> Any:
            # Under `vmap` (broadcast_all) one call per step, batch axes in front.
            self.count += 1
            batch = np.shape(value)[: np.ndim(value) - rank]
            return np.full(batch, self.count - 1, np.int32)

        operand = jax.lax.stop_gradient(operand)  # callbacks have no JVP
        return jax.pure_callback(count, struct, operand, vmap_method="broadcast_all")

    def decode(self, count: int) -> tuple[int, ...]:
        """The step in each loop, outermost first, of the `count`-th step."""
        steps = []
        for length, reverse in reversed(self.loops):
            step = count % length
            steps.append(length - 1 - step if reverse else step)
            count //= length
        return tuple(reversed(steps))


def reset_all() -> None:
    """Restart every count (after a failure aborted a computation mid-loop)."""
    for steps in list(_LIVE):
        steps.count = 0


def loop_steps() -> Steps | None:
    """A step counter for a check traced now, or None outside any `lax.scan`."""
    loops = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if _is_scan(frame):
            length = frame.f_locals.get("length")
            if isinstance(length, int) and length > 0:
                loops.append((length, bool(frame.f_locals.get("reverse", False))))
        frame = frame.f_back
    if not loops:
        return None
    loops.reverse()
    return Steps(loops)


def loop_tick(operand: Any) -> tuple[Steps, Any] | None:
    """Inside a `lax.scan` body being traced: a new step counter and its count for
    this step (traced; `operand`, a value that changes from step to step, keeps
    the call inside the loop). None outside any loop."""
    steps = loop_steps()
    return None if steps is None else (steps, steps.tick(operand))
