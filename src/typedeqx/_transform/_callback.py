"""`filter_pure_callback`: call Python from inside a transformed function, with
arbitrary PyTrees in and out."""

import threading
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ._split import describe_leaf, make_struct, split_tree
from ._wrapper_base import RuleError


class _Pending(threading.local):
    """The exception the last failed callback on this thread raised, until a
    wrapper that catches JAX's runtime error claims it."""

    error: BaseException | None = None


_PENDING = _Pending()


def reraise_callback_error(runtime_error: BaseException) -> None:
    """Raise what a `filter_pure_callback` callback raised, if one failed on this
    thread; otherwise return (and the caller re-raises `runtime_error`).

    JAX reports a failed callback as a `JaxRuntimeError` that carries only text;
    the callback's own exception is handed over here instead, as a value, so that
    e.g. a `ShapeError` stays a `ShapeError`. Errors typedeqx raises there are
    also `RuntimeError`s, as JAX's is.
    """
    error, _PENDING.error = _PENDING.error, None
    if error is not None:
        raise error from None


def _is_struct(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def filter_pure_callback(
    callback: Callable[..., Any],
    *args: Any,
    result_shape_dtypes: Any,
    vmap_method: str | None = None,
    sharding: Any = None,
    **kwargs: Any,
) -> Any:
    """Call the pure Python function `callback(*args, **kwargs)` on the host, also
    from inside `jit`, `vmap` and the like (as `jax.pure_callback`).

    **Arguments:**

    - `callback`: the Python function. It gets concrete arrays (as
        `jax.pure_callback` passes them) where `args` and `kwargs` hold arrays, and
        every other leaf as it is.
    - `*args`, `**kwargs`: its arguments, any PyTrees.
    - `result_shape_dtypes`: the structure of its output, with a
        `jax.ShapeDtypeStruct` (or anything with `.shape` and `.dtype`) in place of
        each array and the exact value of every other leaf. Keyword only.
    - `vmap_method`: how the call behaves under `vmap`, as for `jax.pure_callback`
        (`"sequential"`, `"expand_dims"`, `"broadcast_all"`, ...).
    - `sharding`: as for `jax.pure_callback`.

    **Returns:**

    The output of `callback`: arrays of the declared shapes and dtypes, and the
    declared non-array leaves.
    """
    dynamic, split = split_tree((args, kwargs))
    structs, out_split = split_tree(result_shape_dtypes, _is_struct)
    out_structs = [make_struct(s.shape, s.dtype) for s in structs]

    def host(*arrays: Any) -> list[Any]:
        try:
            return run(*arrays)
        except Exception as e:
            _PENDING.error = e
            raise

    def run(*arrays: Any) -> list[Any]:
        a, k = split.rebuild(arrays)
        out_arrays, got = split_tree(callback(*a, **k), _is_struct)
        if got != out_split:
            raise RuleError(
                "filter_pure_callback: the callback returned a different structure "
                "or different non-array leaves than result_shape_dtypes declares. "
                f"Declared non-array leaves {out_split.static!r}; got {got.static!r}."
            )
        for x, s in zip(out_arrays, out_structs):
            if tuple(x.shape) != s.shape or np.dtype(x.dtype) != s.dtype:
                raise RuleError(
                    f"filter_pure_callback: the callback returned a {describe_leaf(x)}"
                    f" where result_shape_dtypes declares shape {s.shape} and dtype "
                    f"{s.dtype}."
                )
        return [np.asarray(x) for x in out_arrays]

    try:
        out = jax.pure_callback(
            host, out_structs, *dynamic, vmap_method=vmap_method, sharding=sharding
        )
    except jax.errors.JaxRuntimeError as e:
        reraise_callback_error(e)
        raise
    return out_split.rebuild(out)
