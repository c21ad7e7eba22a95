"""`filter_vmap`: vectorise arrays, broadcast everything else. The axis specs and
the splitting of arguments and outputs are in `_axes.py`, shared with
`filter_pmap`."""

from collections.abc import Callable, Hashable
from typing import Any, overload

import jax

from .._errors import TransformError
from ._axes import if_array, join_output, split_mapped_args
from ._split import fun_name
from ._wrapper_base import TransformWrapper

_LEADING = if_array(0)


def _own_fun(fun: Any) -> Callable[[Any], Any]:
    return lambda _: fun


class _VmapWrapper(TransformWrapper):
    def __init__(
        self,
        fun: Callable[..., Any],
        in_axes: Any,
        out_axes: Any,
        axis_name: Hashable | None,
        axis_size: int | None,
        vmapkwargs: dict[str, Any],
    ) -> None:
        super().__init__(fun, (in_axes, out_axes, axis_name, axis_size, vmapkwargs))
        self._fun = fun
        self._in_axes = in_axes
        self._out_axes = out_axes
        self._axis_name = axis_name
        self._axis_size = axis_size
        self._vmapkwargs = vmapkwargs
        self._name = f"filter_vmap({fun_name(fun)})"

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        split = split_mapped_args(self._name, self._fun, self._in_axes, args, kwargs)
        call = split.traced(_own_fun(self._fun), self._out_axes)
        if not split.mapped and self._axis_size is None:
            mapped_out, unmapped_out, meta = call(split.dynamic)
            if mapped_out:
                raise TransformError(
                    f"{self._name}: nothing was mapped (no in_axes selected an array "
                    "and no axis_size was given), so the outputs cannot be given a "
                    "mapped axis. Pass axis_size=..., or out_axes=None."
                )
            return join_output(mapped_out, unmapped_out, meta.value)
        vmapped = split.transform(
            jax.vmap, call, self._axis_name, self._axis_size, self._vmapkwargs
        )
        mapped_out, unmapped_out, meta = vmapped(split.dynamic, ())
        return join_output(mapped_out, unmapped_out, meta.value)


@overload
def filter_vmap(
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def filter_vmap(
    fun: Callable[..., Any],
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[..., Any]: ...


def filter_vmap(
    fun: Callable[..., Any] | None = None,
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Any:
    """Vectorise `fun`: by default every array is mapped along its leading axis and
    every other leaf is broadcast.

    **Arguments:**

    - `fun`: the function to vectorise; it takes positional arguments only. May be
        omitted, to use `filter_vmap(in_axes=...)` as a decorator.
    - `in_axes`: a PyTree prefix of the tuple of positional arguments (or a dict
        from parameter name to spec; unnamed arguments get `if_array(0)`), whose
        leaves are an `int` axis, `None` (broadcast), or a callable
        `leaf -> int | None` such as [`if_array`][]. Only arrays can be mapped.
    - `out_axes`: the same, as a prefix of the output: where the mapped axis goes
        in each output array. Non-array outputs must be `None` (as `if_array` makes
        them) and are returned as they are.
    - `axis_name`: a name for the mapped axis, for collectives such as
        `jax.lax.psum`.
    - `axis_size`: the size of the mapped axis; needed only when no argument is
        mapped.
    - `**vmapkwargs`: passed on to `jax.vmap` (say `spmd_axis_name`).

    **Returns:**

    The vectorised function. Each mapped output array gains an axis of size
    `axis_size` (or the common size of the mapped inputs) at its `out_axes`.

    ```python
    import jax
    import typedeqx

    @typedeqx.filter_vmap
    def make_ensemble(key):
        return typedeqx.nn.MLP(2, 2, 2, 2, key=key)

    ensemble = make_ensemble(jax.random.split(jax.random.key(0), 8))
    assert ensemble.layers[0].weight.shape == (8, 2, 2)  # a leading 8
    ```
    """
    if fun is None:
        return lambda f: filter_vmap(
            f,
            in_axes=in_axes,
            out_axes=out_axes,
            axis_name=axis_name,
            axis_size=axis_size,
            **vmapkwargs,
        )
    return _VmapWrapper(fun, in_axes, out_axes, axis_name, axis_size, vmapkwargs)
