"""The host side of a run-time error: the exception types, how a callback hands
its error over, and how `reraise` turns JAX's text-only failure back into it."""

import logging
from typing import Any, NoReturn

import numpy as np


class HostError(RuntimeError):
    """Base of the errors typedeqx raises from a host callback inside a compiled
    computation (`error_if`, value checks). JAX does not log these (see
    `_QuietCallbacks`): the error itself reaches the user, as in Equinox."""


class EquinoxRuntimeError(HostError):
    """An `error_if` predicate was true when the program ran."""


class EquinoxTracetimeError(RuntimeError):
    """An `error_if` predicate was already known to be true when tracing."""


EquinoxRuntimeError.__module__ = "typedeqx"
EquinoxTracetimeError.__module__ = "typedeqx"


# The error raised by the latest failing callback, for `reraise`.
_pending: list[HostError] = []


class _QuietCallbacks(logging.Filter):
    """Drop JAX's `jax.pure_callback failed` log record (with its traceback) when
    the callback raised one of our own errors on purpose; the error is re-raised
    to the user, so the log would only repeat it. Other failures are logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        return not (info and isinstance(info[1], HostError))


logging.getLogger("jax._src.callback").addFilter(_QuietCallbacks())


def hand_over(error: HostError) -> NoReturn:
    """Raise `error` from a host callback, leaving it for `reraise` to raise again
    outside the computation (JAX wraps it in a `JaxRuntimeError` of text only)."""
    # XLA may go on to run (and fail) other callbacks of the same computation
    # after the first failure; the first one is the one to report.
    if len(_pending) >= 16:
        del _pending[:8]
    _pending.append(error)
    raise error


def batch_note(failed: Any) -> str:
    """Which batch element failed: `failed` is a boolean array whose axes are the
    `vmap` batch axes (outermost first), as a `broadcast_all` callback receives
    it; a scalar (no `vmap`) gives no note."""
    failed = np.asarray(failed)
    if failed.ndim == 0 or not failed.any():
        return ""
    first = tuple(int(i) for i in np.argwhere(failed)[0])
    count = int(failed.sum())
    return (
        f"Batch index {first} had error ({count} of {failed.size} batch elements "
        "failed; the first shown, vmap axes outermost first)."
    )


def reraise(error: Exception) -> NoReturn:
    """Turn the `JaxRuntimeError` a failing `error_if` or value-check callback
    causes into the error the callback raised (an `EquinoxRuntimeError` or a
    `ValueCheckError`, carrying just the message); re-raise anything else.
    `filter_jit` calls this so that user code can catch those types."""
    # JAX's text carries the message of the callback that failed; earlier
    # entries may be stale (a failure under a plain `jax.jit` is never claimed).
    text = str(error)
    claimed = next((e for e in _pending if str(e) in text), None)
    if claimed is not None:
        _pending.clear()
        raise claimed from None
    raise error
