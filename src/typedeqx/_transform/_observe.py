"""Watching what a trace runs: how `typedeqx.summary` sees inside `filter_jit`.

A summary records each module call of a dry run as it is traced. Two things of
`filter_jit` would hide calls from it: JAX reuses a function's earlier trace (so
its Python body, and the module calls in it, do not run again), and inside the
trace every Module argument is a new object rebuilt from tracers (so it is not the
module of the model the summary walks). While an observer is set, for the length
of one dry run in this thread or task, `filter_jit` traces each call afresh and
tells the observer which rebuilt Module stands for which argument. Outside a dry
run this costs one `ContextVar` read on a call that flattens.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any, Protocol

import jax.tree_util as jtu

from .._module import Module


class Observer(Protocol):
    """What a dry run that watches the trace provides."""

    def alias(self, rebuilt: Any, original: Any) -> None:
        """`rebuilt`, a Module made inside a trace, stands for `original`."""


_OBSERVER: contextvars.ContextVar[Observer | None] = contextvars.ContextVar(
    "typedeqx_trace_observer", default=None
)
observer = _OBSERVER.get
"""The observer of the dry run being traced in this context, or `None`."""


@contextlib.contextmanager
def observed(watcher: Observer) -> Iterator[None]:
    """Let `watcher` see the calls traced inside the `with` block."""
    token = _OBSERVER.set(watcher)
    try:
        yield
    finally:
        _OBSERVER.reset(token)


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def report_aliases(watcher: Observer, rebuilt: Any, original: Any) -> None:
    """Tell `watcher` which Module of `rebuilt` stands for which of `original`: two
    trees of the same structure (a traced call's arguments, and what was passed)."""
    pairs = zip(
        jtu.tree_leaves(rebuilt, is_leaf=_is_module),
        jtu.tree_leaves(original, is_leaf=_is_module),
    )
    for new, old in pairs:
        if isinstance(new, Module) and type(new) is type(old) and new is not old:
            watcher.alias(new, old)
