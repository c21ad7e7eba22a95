"""Which compiled programs `filter_jit` waits for.

JAX dispatches asynchronously: a call returns before its program has run. A host
callback that raises (a failing `error_if`, a value check, a `filter_pure_callback`
whose function raises) then fails the program later, and the error surfaces at
some later use of the result, or never, if nobody reads it. Equinox waits for
every call. typedeqx waits only for programs that hold such a callback, so every
other program keeps asynchronous dispatch, and the check costs nothing on the
steady-state path: it runs once, when a call compiles a new program, on the jaxpr
JAX has just traced (read back from JAX's cache, not traced again).
"""

from typing import Any

import jax
import jax.core
import jax.extend.core as jex
import jax.tree_util as jtu

# The primitives of callbacks whose function may raise (`jax.debug.callback`, which
# only prints, is not one).
_HOST_CALLBACKS = frozenset({"pure_callback", "io_callback"})
# JAX leaves it unannotated; typed here so that strict checking accepts the call.
_block_until_ready: Any = jax.block_until_ready


def holds_host_callback(jaxpr: Any) -> bool:
    """Whether `jaxpr` (a `ClosedJaxpr` or `Jaxpr`), or any jaxpr nested in it
    (`scan`, `cond`, `pjit`, custom rules, ...), calls back to the host."""
    stack = [getattr(jaxpr, "jaxpr", jaxpr)]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:  # one inner jaxpr is often shared by many calls
            continue
        seen.add(id(current))
        if any(eqn.primitive.name in _HOST_CALLBACKS for eqn in current.eqns):
            return True
        stack.extend(jex.subjaxprs(current))
    return False


class Waiting:
    """A compiled function that waits for its results (see the module docstring)."""

    __slots__ = ("compiled",)

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled  # a `jax.jit` function

    def __call__(self, *inputs: Any) -> Any:
        out = self.compiled(*inputs)
        wait(out)
        return out


def wait(out: Any) -> None:
    """Block until the arrays of `out` are computed (nothing while tracing)."""
    leaves = jtu.tree_leaves(out)
    if leaves and not isinstance(leaves[0], jax.core.Tracer):
        _block_until_ready(leaves)


def cache_size(compiled: Any) -> int:
    """How many programs `compiled` (a `jax.jit` function) holds; `-1` for one
    that already waits, which needs no further look."""
    if type(compiled) is Waiting:
        return -1
    size: int = compiled._cache_size()
    return size


def needs_waiting(compiled: Any, size_before: int, inputs: tuple[Any, ...]) -> bool:
    """Whether the call of `compiled` on `inputs` just made a program that holds a
    host callback. Only donated inputs' shapes are read, so a call that consumed
    them may be looked at."""
    if size_before < 0 or cache_size(compiled) == size_before:
        return False
    return holds_host_callback(compiled.trace(*inputs).jaxpr)
