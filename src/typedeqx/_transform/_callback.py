"""`filter_pure_callback`: call Python from inside a transformed function, with
arbitrary PyTrees in and out."""

import threading
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from .._errors import TransformError
from ._common import describe_leaf, make_struct, split_tree


class _LastError(threading.local):
    error: BaseException | None = None


_LAST = _LastError()


def callback_error(runtime_error: BaseException) -> BaseException | None:
    """The exception a `filter_pure_callback` callback raised, if `runtime_error`
    (JAX's wrapper of a failed callback) carries it; the original is what callers
    should see, so that e.g. a `ShapeError` stays a `ShapeError`."""
    error, _LAST.error = _LAST.error, None
    if error is not None and str(error) in str(runtime_error):
        return error
    return None


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
            _LAST.error = e
            raise

    def run(*arrays: Any) -> list[Any]:
        a, k = split.rebuild(arrays)
        out_arrays, got = split_tree(callback(*a, **k), _is_struct)
        if got != out_split:
            raise TransformError(
                "filter_pure_callback: the callback returned a different structure "
                "or different non-array leaves than result_shape_dtypes declares. "
                f"Declared non-array leaves {out_split.static!r}; got {got.static!r}."
            )
        for x, s in zip(out_arrays, out_structs):
            if tuple(x.shape) != s.shape or np.dtype(x.dtype) != s.dtype:
                raise TransformError(
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
        original = callback_error(e)
        if original is None:
            raise
        raise original from None
    return out_split.rebuild(out)
