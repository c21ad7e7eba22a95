"""The on/off switch for shape contracts.

Configuration is explicit: the `TYPEDEQX_CHECKS` environment variable, read once at
import, sets the default; the [`checks`][] context manager overrides it for the
current thread (or asyncio task). The hot path reads one `ContextVar`.
"""

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator
from typing import Any

_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _not_installed(*args: Any) -> Any:
    raise RuntimeError("typedeqx._values is not imported; import typedeqx.")


class ValuesOn:
    """The switch's state when value checks are on too (`checks(values=True)`):
    truthy, like `True`. It carries the value-checking call, which
    `typedeqx._values` (built on this package, never imported by it) installs."""

    __slots__ = ("call",)

    def __init__(self) -> None:
        self.call: Callable[..., Any] = _not_installed

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "VALUES"


VALUES = ValuesOn()


def _default_from_environment() -> bool | ValuesOn:
    value = os.environ.get("TYPEDEQX_CHECKS", "1").strip().lower()
    if value == "values":
        return VALUES
    return value not in _FALSE_WORDS


_DEFAULT = _default_from_environment()
_ENABLED: contextvars.ContextVar[bool | ValuesOn] = contextvars.ContextVar(
    "typedeqx_checks", default=_DEFAULT
)

# Bound once so that the wrappers pay for a single C call per check.
checks_enabled = _ENABLED.get
"""Whether shape contracts are checked in the current context."""


@contextlib.contextmanager
def checks(enabled: bool = True, *, values: bool | None = None) -> Iterator[None]:
    """Turn shape-contract checking (and value checking) on or off inside a `with`
    block.

    The setting is local to the current thread (new threads start from the
    `TYPEDEQX_CHECKS` default) and is restored on exit, also when the block raises.
    Checks run while tracing. `filter_jit` and `filter_pmap` keep one trace per
    setting, so a function they compiled with checks off is traced again, with
    them, when it is next called with them on (and the first trace is used again
    when they are back off). Under plain `jax.jit` the setting at trace time
    counts: it does not trace again when the setting changes.

    **Arguments:**

    - `enabled`: `True` to check contracts, `False` to skip every check.
    - `values`: `True` to also check values: every array a checked module returns
        (and every gradient flowing back through it) for NaN and infinity, and
        run-time indices for range; `False` to stop; `None` (default) keeps the
        enclosing setting. `TYPEDEQX_CHECKS=values` turns them on by default.

    **Returns:**

    A context manager.

    ```python fragment
    with typedeqx.checks(False):
        y = model(x)  # no shape checks here
    ```
    """
    if not isinstance(enabled, bool):
        raise ValueError(
            f"typedeqx.checks(enabled) takes a bool; got {type(enabled).__name__}."
        )
    if values is not None and not isinstance(values, bool):
        raise ValueError(
            f"typedeqx.checks(values=...) takes a bool or None; got "
            f"{type(values).__name__}."
        )
    if not enabled and values:
        raise ValueError(
            "typedeqx.checks(False, values=True): value checks run inside the "
            "checked calls, so they need checks on. Use checks(values=True)."
        )
    state: bool | ValuesOn = enabled
    if enabled and (values or (values is None and _ENABLED.get() is VALUES)):
        state = VALUES
    token = _ENABLED.set(state)
    try:
        yield
    finally:
        _ENABLED.reset(token)
