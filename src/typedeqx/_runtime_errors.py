"""`error_if` and `branched_error_if`: raise an error from a run-time value, eagerly
or inside `jit`, `vmap`, `grad` and loops.

What happens on error is set by the `EQX_ON_ERROR` environment variable, read once
at import (as Equinox does): `raise` (default), `breakpoint`, `nan` or `off`.
"""

import functools
import os
import traceback
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal, NoReturn

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax import lax
from jax.core import Tracer

from ._caches import register_cache
from ._filters import combine, is_array, partition
from ._unbatched import unbatched_any, unbatched_max

OnError = Literal["default", "raise", "breakpoint", "nan", "off"]
_MODES = ("raise", "breakpoint", "nan", "off")


class EquinoxRuntimeError(RuntimeError):
    """An `error_if` predicate was true when the program ran."""


class EquinoxTracetimeError(RuntimeError):
    """An `error_if` predicate was already known to be true when tracing."""


EquinoxRuntimeError.__module__ = "typedeqx"
EquinoxTracetimeError.__module__ = "typedeqx"


def _read_on_error() -> str:
    value = os.environ.get("EQX_ON_ERROR", "raise")
    if value not in _MODES:
        raise ValueError(
            f"EQX_ON_ERROR={value!r} is not a mode error_if knows. Set it to one of "
            "raise, breakpoint, nan or off."
        )
    return value


EQX_ON_ERROR = _read_on_error()
# JAX leaves these unannotated; typed here so that strict checking accepts calls.
_ShapeDtypeStruct: Any = jax.ShapeDtypeStruct
_block_until_ready: Any = jax.block_until_ready
# The message of the error raised by the latest failing callback, for `reraise`.
_last_message: list[str] = []


def _nan_like(x: Any) -> Any:
    dtype = np.dtype(x.dtype)
    if np.issubdtype(dtype, np.inexact):
        fill: Any = np.nan
    elif np.issubdtype(dtype, np.integer):
        fill = np.iinfo(dtype).max
    elif np.issubdtype(dtype, np.bool_):
        fill = True
    else:
        return x
    return jnp.full(np.shape(x), fill, dtype)


def _caller() -> str:
    """Where the user called `error_if`: the innermost frame outside typedeqx/JAX."""
    here = os.path.dirname(__file__)
    jax_dir = os.path.dirname(jax.__file__)
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith((here, jax_dir)):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}'
    return "unknown location"


def _raise_callback(msgs: tuple[str, ...], where: str) -> Callable[[Any], Any]:
    def raises(index: Any) -> NoReturn:
        message = f"{msgs[int(index)]}\n\nerror_if called at: {where}"
        _last_message[:] = [message]
        raise EquinoxRuntimeError(message)

    return raises


def _on_true(x: Any, index: Any, msgs: tuple[str, ...], mode: str, where: str) -> Any:
    """The branch `lax.cond` takes when the predicate holds."""
    struct = jax.eval_shape(lambda: x)
    if mode == "raise":
        # The callback's output stands in for `x`, so it cannot be optimised away.
        raises = _raise_callback(msgs, where)
        return jax.pure_callback(raises, struct, index, vmap_method="broadcast_all")
    if mode == "breakpoint":

        def show(i: Any) -> Any:
            print(f"EquinoxRuntimeError: {msgs[int(i)]}\n(error_if at {where})")
            return i

        index = jax.pure_callback(
            show, _ShapeDtypeStruct((), index.dtype), index, vmap_method="broadcast_all"
        )
        jax.debug.breakpoint(token=index)
    return jtu.tree_map(_nan_like, struct)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4, 5))
def _checked(x: Any, pred: Any, index: Any, msgs: Any, mode: str, where: str) -> Any:
    return lax.cond(pred, lambda: _on_true(x, index, msgs, mode, where), lambda: x)


@_checked.defjvp
def _checked_jvp(
    msgs: Any, mode: str, where: str, primals: Any, tangents: Any
) -> tuple[Any, Any]:
    # The check is not differentiated: tangents pass through unchanged.
    x, pred, index = primals
    return _checked(x, pred, index, msgs, mode, where), tangents[0]


def _resolve(on_error: str) -> str:
    if on_error == "default":
        return EQX_ON_ERROR
    if on_error not in _MODES:
        raise RuntimeError(
            f"on_error={on_error!r} is not a mode error_if knows; pass one of "
            "'default', 'raise', 'breakpoint', 'nan' or 'off'."
        )
    return on_error


def _at_trace_time(x: Any, index: Any, msgs: Sequence[str], mode: str) -> Any:
    """The predicate is known to be true before anything runs."""
    if mode == "raise":
        raise EquinoxTracetimeError(msgs[index])
    if mode == "breakpoint":
        print(f"EquinoxTracetimeError: {msgs[index]}")
        breakpoint()
    elif mode == "nan":
        warnings.warn(
            "error_if: the predicate is true at trace time; substituting NaN "
            "because on_error='nan'.",
            UserWarning,
            stacklevel=4,
        )
        return jtu.tree_map(lambda y: _nan_like(y) if is_array(y) else y, x)
    return x


def _impl(x: Any, pred: Any, index: Any, msgs: tuple[str, ...], mode: str) -> Any:
    with jax.ensure_compile_time_eval():
        if not isinstance(pred, bool):
            pred = unbatched_any(pred)
        if not isinstance(index, int):
            index = unbatched_max(index)
        if not isinstance(pred, Tracer):
            if not bool(pred):
                return x
            if not isinstance(index, Tracer):
                return _at_trace_time(x, int(index), msgs, mode)
    if mode == "off":
        return x
    dynamic, static = partition(x, is_array)
    if not jtu.tree_leaves(dynamic):
        raise ValueError(
            "error_if needs at least one array in `x` to attach the check to; got "
            f"a tree with no arrays ({jtu.tree_structure(x)}). Pass the array the "
            "check guards."
        )
    index = jnp.asarray(index, jnp.int32)
    dynamic = _checked(dynamic, pred, index, msgs, mode, _caller())
    return combine(dynamic, static)


_compiled: dict[Hashable, Callable[..., Any]] = {}
register_cache(_compiled.clear)


def _jitted(static: tuple[Any, ...]) -> Callable[..., Any]:
    """One `jax.jit` per static part (tree structure, non-array leaves, messages)."""
    try:
        found = _compiled.get(static)
    except TypeError:  # an unhashable non-array leaf: compile without caching
        found, static_key = None, None
    else:
        static_key = static
    if found is None:
        treedef, static_leaves, msgs, mode = static

        def run(leaves: list[Any]) -> Any:
            merged = [s if d is None else d for d, s in zip(leaves, static_leaves)]
            x, pred, index = jtu.tree_unflatten(treedef, merged)
            return _impl(x, pred, index, msgs, mode)

        found = jax.jit(run)
        if static_key is not None:
            _compiled[static_key] = found
    return found


def reraise(error: Exception) -> NoReturn:
    """Turn the `JaxRuntimeError` a failing `error_if` callback causes into an
    `EquinoxRuntimeError` carrying just the message; re-raise anything else.
    `filter_jit` calls this so that user code can catch `EquinoxRuntimeError`."""
    if _last_message and "EquinoxRuntimeError" in str(error):
        message = _last_message.pop()
        raise EquinoxRuntimeError(message) from None
    raise error


def _eager(x: Any, pred: Any, index: Any, msgs: tuple[str, ...], mode: str) -> Any:
    leaves, treedef = jtu.tree_flatten((x, pred, index))
    dynamic = [leaf if is_array(leaf) else None for leaf in leaves]
    static_leaves = tuple(None if is_array(leaf) else leaf for leaf in leaves)
    fn = _jitted((treedef, static_leaves, msgs, mode))
    try:
        out = fn(dynamic)
        if not any(isinstance(y, Tracer) for y in jtu.tree_leaves(out)):
            _block_until_ready(out)
    # JAX reports a failed callback as a `JaxRuntimeError`, except on the fast path
    # of a call already compiled, where it is a plain `ValueError`.
    except (jax.errors.JaxRuntimeError, ValueError) as e:
        reraise(e)
    return out


def branched_error_if(
    x: Any,
    pred: Any,
    index: Any,
    msgs: Sequence[str],
    *,
    on_error: OnError = "default",
) -> Any:
    """As `error_if`, with one of several messages: `msgs[index]`. Under `vmap`, the
    largest `index` over the batch picks the message.

    **Arguments:**

    - `x`: any PyTree holding at least one array; returned unchanged.
    - `pred`: a boolean, or a boolean array of any shape; the error fires if any
        element (of any batch element) is true.
    - `index`: an integer, or integer array of `pred`'s shape, into `msgs`.
    - `msgs`: the messages.

    **Returns:**

    `x`. The check runs only if the result is used.
    """
    mode = _resolve(on_error)
    msgs = tuple(msgs)
    # As in Equinox: with any array about, the check is staged into a `jit`, so an
    # array predicate is always a run-time one; plain Python values decide now.
    if not any(is_array(leaf) for leaf in jtu.tree_leaves((x, pred, index))):
        return _impl(x, pred, index, msgs, mode)
    return _eager(x, pred, index, msgs, mode)


def error_if(x: Any, pred: Any, msg: str, *, on_error: OnError = "default") -> Any:
    """Raise an error if `pred` is true when the program runs; works under `jit`,
    `vmap`, `grad`, `lax.scan` and `lax.while_loop`.

    **Arguments:**

    - `x`: any PyTree holding at least one array; the check runs after `x` is
        computed and before the returned value is used.
    - `pred`: a boolean, or a boolean array of any shape; the error fires if any
        element is true (under `vmap`, in any batch element).
    - `msg`: the error message.

    `EQX_ON_ERROR` (read at import) chooses what an error does: `raise` an
    `EquinoxRuntimeError` (`EquinoxTracetimeError` when `pred` is already known to
    be true when tracing), open a `breakpoint`, return `nan`s instead of `x`, or
    nothing (`off`).

    **Returns:**

    `x` unchanged. If the result is unused, the check is removed with it.
    """
    return branched_error_if(x, pred, 0, [msg], on_error=on_error)
