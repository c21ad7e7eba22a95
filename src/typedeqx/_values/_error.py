"""`ValueCheckError` and the text of its messages.

Messages are built from structured parts (where, what, how many, which batch
element, which loop step) on the error path only.
"""

import numpy as np

from .._runtime_errors import HostError


class ValueCheckError(HostError):
    """A value check failed (with `typedeqx.checks(values=True)`): a module
    produced a NaN or infinity, a gradient became non-finite, or an index was out
    of range. A `RuntimeError`, like Equinox's run-time errors.

    `path` is the full path of the module the message names (`Net.blocks[3]`),
    or None."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


ValueCheckError.__module__ = "typedeqx"


def batch_and_step(batch: tuple[int, ...] | None, step: tuple[int, ...] | None) -> str:
    """The sentence that says which `vmap` batch element and `lax.scan` step
    failed; empty when neither applies."""
    parts = []
    if batch:
        parts.append(f"Batch index {batch} had error (vmap axes outermost first).")
    if step:
        where = ", ".join(str(s) for s in step)
        parts.append(f"At lax.scan step {where} (outermost loop first).")
    return "" if not parts else "\n" + " ".join(parts)


def bad_elements(count: int, size: int, text: str) -> str:
    """`3 of 64 elements are NaN or infinite (f32[64])`."""
    return f"{count} of {size} elements are NaN or infinite ({text})"


def first_true(flags: np.ndarray) -> tuple[int, ...] | None:
    """The first index (row-major) where `flags` holds, or None; `()` for a
    scalar that holds."""
    hits = np.argwhere(flags)
    if hits.size == 0 and flags.ndim:
        return None
    if flags.ndim == 0:
        return () if bool(flags) else None
    return tuple(int(i) for i in hits[0])
