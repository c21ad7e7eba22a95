"""`filter_pmap`: `jax.pmap` with `filter_vmap`'s axis specs and `filter_jit`'s
static handling.

Every array is an input of the compiled function (mapped along its axis, or
broadcast where its axis is `None`); every other leaf is static, must be hashable,
and selects one compiled `jax.pmap` per distinct value.
"""

import contextlib
import warnings
from collections.abc import Callable, Hashable
from typing import Any, Literal, overload

import jax

from .._errors import TransformError
from ._common import TransformWrapper, fun_name, unhashable_error
from ._vmap import if_array, join_output, split_mapped_args

_LEADING = if_array(0)


class _PmapWrapper(TransformWrapper):
    def __init__(
        self,
        fun: Callable[..., Any],
        in_axes: Any,
        out_axes: Any,
        axis_name: Hashable | None,
        axis_size: int | None,
        donate: str,
        pmapkwargs: dict[str, Any],
    ) -> None:
        super().__init__(fun)
        self._fun = fun
        self._in_axes = in_axes
        self._out_axes = out_axes
        self._axis_name = axis_name
        self._axis_size = axis_size
        self._quiet = donate == "all"
        if donate != "none":
            pmapkwargs = {**pmapkwargs, "donate_argnums": (0,)}
        self._pmapkwargs = pmapkwargs
        self._name = f"filter_pmap({fun_name(fun)})"
        self._cache: dict[Any, Any] = {}

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        split = split_mapped_args(
            self._name, self._fun, self._in_axes, args, kwargs, pass_all_arrays=True
        )
        # Which positions hold arrays is not in the treedef: (array, 3) and
        # (3, array) share one; the mapped positions tell them apart.
        key = (
            split.treedef,
            tuple(split.mapped),
            tuple(split.axes),
            tuple(split.fixed_leaves),
        )
        try:
            compiled = self._cache.get(key)
        except TypeError:
            raise unhashable_error(self._name, (args, {})) from None
        if compiled is None:
            compiled = self._cache[key] = jax.pmap(
                split.traced(self._fun, self._out_axes),
                in_axes=(split.axes,),
                out_axes=(0, None, None),
                axis_name=self._axis_name,
                axis_size=self._axis_size,
                **self._pmapkwargs,
            )
        with warnings.catch_warnings() if self._quiet else contextlib.nullcontext():
            if self._quiet:
                warnings.filterwarnings("ignore", message="Some donated buffers")
            mapped, unmapped, meta = compiled(split.dynamic)
        return join_output(mapped, unmapped, meta.value)


@overload
def filter_pmap(
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    donate: Literal["all", "warn", "none"] = "none",
    **pmapkwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def filter_pmap(
    fun: Callable[..., Any],
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    donate: Literal["all", "warn", "none"] = "none",
    **pmapkwargs: Any,
) -> Callable[..., Any]: ...


def filter_pmap(
    fun: Callable[..., Any] | None = None,
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    donate: Literal["all", "warn", "none"] = "none",
    **pmapkwargs: Any,
) -> Any:
    """Parallelise `fun` across devices: every array is mapped along its leading
    axis by default, every other leaf is static.

    **Arguments:**

    - `fun`: the function, taking positional arguments only. May be omitted, to use
        `filter_pmap(...)` as a decorator.
    - `in_axes`, `out_axes`, `axis_name`, `axis_size`: as for [`filter_vmap`][]; the
        mapped axis must have at most as many entries as there are devices.
    - `donate`: `"all"` (donate every array argument, silencing warnings about
        buffers that could not be reused), `"warn"` (the same, keeping the
        warnings) or `"none"` (the default).
    - `**pmapkwargs`: passed on to `jax.pmap` (say `devices`); not
        `static_broadcasted_argnums` or `donate_argnums`.

    **Returns:**

    The parallelised function. Each mapped output array gains the device axis at
    its `out_axes`.
    """
    if donate not in ("all", "warn", "none"):
        raise TransformError(
            f"filter_pmap(donate=...) must be 'all', 'warn' or 'none'; got {donate!r}."
        )
    reserved = [
        k for k in ("static_broadcasted_argnums", "donate_argnums") if k in pmapkwargs
    ]
    if reserved:
        raise TransformError(
            f"filter_pmap decides what is static and donated itself; it does not take "
            f"{reserved}."
        )
    if fun is None:
        return lambda f: filter_pmap(
            f,
            in_axes=in_axes,
            out_axes=out_axes,
            axis_name=axis_name,
            axis_size=axis_size,
            donate=donate,
            **pmapkwargs,
        )
    return _PmapWrapper(
        fun, in_axes, out_axes, axis_name, axis_size, donate, pmapkwargs
    )
