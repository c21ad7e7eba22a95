"""`error_if` and `branched_error_if`: raise an error from a run-time value, eagerly
or inside `jit`, `vmap`, `grad` and loops.

What happens on error is set by the `EQX_ON_ERROR` environment variable, read once
at import (as Equinox does): `raise` (default), `breakpoint`, `nan` or `off`.
"""

import functools
import os
import traceback
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal, NoReturn

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax import lax
from jax.core import Tracer

from .._caches import register_cache
from .._filters import combine, is_array, partition
from ._host import (
    EquinoxRuntimeError,
    EquinoxTracetimeError,
    batch_note,
    hand_over,
    reraise,
)
from ._unbatched import unbatched_any, unbatched_max

OnError = Literal["default", "raise", "breakpoint", "nan", "off"]
_MODES = ("raise", "breakpoint", "nan", "off")


def read_on_error(environ: Mapping[str, str]) -> str:
    """The mode `EQX_ON_ERROR` selects in `environ` (`raise` when unset)."""
    value = environ.get("EQX_ON_ERROR", "raise")
    if value not in _MODES:
        raise ValueError(
            f"EQX_ON_ERROR={value!r} is not a mode error_if knows. Set it to one of "
            "raise, breakpoint, nan or off."
        )
    return value


EQX_ON_ERROR = read_on_error(os.environ)
# JAX leaves these unannotated; typed here so that strict checking accepts calls.
_ShapeDtypeStruct: Any = jax.ShapeDtypeStruct
_block_until_ready: Any = jax.block_until_ready


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
    # The folder of the whole typedeqx package, one above this one.
    here = os.path.dirname(os.path.dirname(__file__))
    jax_dir = os.path.dirname(jax.__file__)
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith((here, jax_dir)):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}'
    return "unknown location"


def _raise_callback(msgs: tuple[str, ...], where: str) -> Callable[..., Any]:
    def raises(index: Any, failed: Any) -> NoReturn:
        # Under `vmap` (broadcast_all) both have the batch axes; `index` is the
        # same unbatched maximum in every element.
        message = msgs[int(np.max(index))]
        note = batch_note(failed)
        if note:
            message = f"{message}\n\n{note}"
        hand_over(EquinoxRuntimeError(f"{message}\n\nerror_if called at: {where}"))

    return raises


def _on_every_device(call: Callable[..., Any], x: Any) -> Callable[..., Any]:
    """`call`, or, when `x` lies on a mesh of several devices (of one process or
    several), `call` mapped over every device of that mesh. JAX runs a callback of
    a sharded computation on one device only: when it raises there, the other
    devices wait for its result until XLA aborts the process (and the other
    processes wait forever)."""
    meshes = [getattr(jax.typeof(y).sharding, "mesh", None) for y in jtu.tree_leaves(x)]
    mesh = next((m for m in meshes if m is not None and m.size > 1), None)
    if mesh is None:  # on one device
        return call
    partition_spec: Any = jax.sharding.PartitionSpec  # unannotated in JAX
    spec = partition_spec()  # the scalars are on every device
    return jax.shard_map(
        call, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False
    )


def _on_true(
    x: Any, index: Any, failed: Any, msgs: tuple[str, ...], mode: str, where: str
) -> Any:
    """The branch `lax.cond` takes when the predicate holds."""
    struct = jax.eval_shape(lambda: x)
    if mode == "raise":
        # The callback's output stands in for `x`, so it cannot be optimised away.
        raises = _raise_callback(msgs, where)

        def call(index: Any, failed: Any) -> Any:
            return jax.pure_callback(
                raises, struct, index, failed, vmap_method="broadcast_all"
            )

        return _on_every_device(call, x)(index, failed)
    if mode == "breakpoint":

        def show(i: Any) -> Any:
            print(f"EquinoxRuntimeError: {msgs[int(i)]}\n(error_if at {where})")
            return i

        index = jax.pure_callback(
            show, _ShapeDtypeStruct((), index.dtype), index, vmap_method="broadcast_all"
        )
        jax.debug.breakpoint(token=index)
    return jtu.tree_map(_nan_like, struct)


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5, 6))
def _checked(
    x: Any, pred: Any, index: Any, failed: Any, msgs: Any, mode: str, where: str
) -> Any:
    def on_true() -> Any:
        return _on_true(x, index, failed, msgs, mode, where)

    return lax.cond(pred, on_true, lambda: x)


@_checked.defjvp
def _checked_jvp(
    msgs: Any, mode: str, where: str, primals: Any, tangents: Any
) -> tuple[Any, Any]:
    # The check is not differentiated: tangents pass through unchanged.
    x, pred, index, failed = primals
    return _checked(x, pred, index, failed, msgs, mode, where), tangents[0]


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
    raw_pred = pred
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
    # Per batch element (a scalar without `vmap`): which elements failed.
    failed = jnp.any(jnp.asarray(raw_pred))
    dynamic = _checked(dynamic, pred, index, failed, msgs, mode, _caller())
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
    - `on_error`: as for [`error_if`][].

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
    - `on_error`: what an error does: `"raise"` an `EquinoxRuntimeError`
        (`EquinoxTracetimeError` when `pred` is already known to be true when
        tracing); `"breakpoint"`: print the message and open a debugger; `"nan"`:
        return `x` with its floating-point arrays NaN (integers at their maximum,
        booleans true); `"off"`: nothing. `"default"` (the default) takes the mode
        from the `EQX_ON_ERROR` environment variable, read at import (`raise` when
        unset).

    **Returns:**

    `x` unchanged. If the result is unused, the check is removed with it.
    """
    return branched_error_if(x, pred, 0, [msg], on_error=on_error)
