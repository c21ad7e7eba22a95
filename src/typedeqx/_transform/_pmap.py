"""`filter_pmap`: `jax.pmap` with `filter_vmap`'s axis specs and `filter_jit`'s
static handling.

Every array is an input of the compiled function (mapped along its axis, or
broadcast where its axis is `None`); every other leaf is static, must be hashable,
and selects one compiled `jax.pmap` per distinct value.
"""

import warnings
from collections.abc import Callable, Hashable
from typing import Any, Literal, overload

import jax
import jax.tree_util as jtu

from .._errors import TransformError
from .._filters import is_array
from ._common import (
    Static,
    TransformWrapper,
    fun_name,
    merge_leaves,
    unhashable_error,
)
from ._vmap import if_array, join_output, named_in_axes, resolve_axes, split_output

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
        if kwargs:
            raise TransformError(
                f"{self._name} takes positional arguments only (in_axes describes "
                f"them by position); got keyword arguments {sorted(kwargs)}."
            )
        axes = resolve_axes(
            named_in_axes(self._fun, self._in_axes, args), args, "in_axes"
        )
        leaves, treedef = jtu.tree_flatten(args)
        dynamic = [i for i, x in enumerate(leaves) if is_array(x)]
        static = [i for i, x in enumerate(leaves) if not is_array(x)]
        if any(axes[i] is not None for i in static):
            raise TransformError(
                f"{self._name}: in_axes maps a non-array argument leaf; only arrays "
                "can be mapped. Use None (or typedeqx.if_array) for it."
            )
        static_leaves = tuple(leaves[i] for i in static)
        dynamic_axes = tuple(axes[i] for i in dynamic)
        key = (treedef, static_leaves, dynamic_axes)
        try:
            compiled = self._cache.get(key)
        except TypeError:
            raise unhashable_error(self._name, (args, {})) from None
        if compiled is None:
            compiled = self._cache[key] = self._compile(
                treedef, len(leaves), dynamic, static, static_leaves, dynamic_axes
            )
        with warnings.catch_warnings():
            if self._quiet:
                warnings.filterwarnings("ignore", message="Some donated buffers")
            mapped, unmapped, meta = compiled([leaves[i] for i in dynamic])
        return join_output(mapped, unmapped, meta.value)

    def _compile(
        self,
        treedef: Any,
        size: int,
        dynamic: list[int],
        static: list[int],
        static_leaves: tuple[Any, ...],
        dynamic_axes: tuple[int | None, ...],
    ) -> Any:
        def call(arrays: list[Any]) -> Any:
            merged = merge_leaves(size, dynamic, arrays, static, static_leaves)
            out = self._fun(*jtu.tree_unflatten(treedef, merged))
            mapped, unmapped, meta = split_output(out, self._out_axes)
            return mapped, unmapped, Static(meta)

        return jax.pmap(
            call,
            in_axes=(list(dynamic_axes),),
            out_axes=(0, None, None),
            axis_name=self._axis_name,
            axis_size=self._axis_size,
            **self._pmapkwargs,
        )


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
