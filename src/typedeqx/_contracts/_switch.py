"""The on/off switch for shape contracts.

Configuration is explicit: the `TYPEDEQX_CHECKS` environment variable, read once at
import, sets the default; the [`checks`][] context manager overrides it for the
current thread (or asyncio task). The hot path reads one `ContextVar`.
"""

import contextlib
import contextvars
import os
from collections.abc import Iterator

_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _default_from_environment() -> bool:
    value = os.environ.get("TYPEDEQX_CHECKS", "1").strip().lower()
    return value not in _FALSE_WORDS


_DEFAULT = _default_from_environment()
_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "typedeqx_checks", default=_DEFAULT
)

# Bound once so that the wrappers pay for a single C call per check.
checks_enabled = _ENABLED.get
"""Whether shape contracts are checked in the current context."""


@contextlib.contextmanager
def checks(enabled: bool) -> Iterator[None]:
    """Turn shape-contract checking on or off inside a `with` block.

    The setting is local to the current thread (new threads start from the
    `TYPEDEQX_CHECKS` default) and is restored on exit, also when the block raises.
    Under `jax.jit` the checks run while tracing, so what counts is the setting at
    trace time: a function traced with checks off is not re-traced when they are
    turned back on.

    **Arguments:**

    - `enabled`: `True` to check contracts, `False` to skip them.

    **Returns:**

    A context manager.

    ```python
    with typedeqx.checks(False):
        y = model(x)  # no shape checks here
    ```
    """
    if not isinstance(enabled, bool):
        raise ValueError(
            f"typedeqx.checks(enabled) takes a bool; got {type(enabled).__name__}."
        )
    token = _ENABLED.set(enabled)
    try:
        yield
    finally:
        _ENABLED.reset(token)
