"""`filter_pmap`: `jax.pmap` with `filter_vmap`'s axis specs and `filter_jit`'s
static handling.

Every array is an input of the compiled function (mapped along its axis, or
broadcast where its axis is `None`); every other leaf is static, must be hashable,
and selects one compiled `jax.pmap` per distinct value.
"""

from collections.abc import Callable, Hashable
from typing import Any, Literal, overload

import jax
import jax.numpy as jnp

from .._contracts import checks_enabled
from .._errors import TransformError
from ._aot import Lowered
from ._axes import MappedArgs, if_array, join_output, split_mapped_args
from ._callback import reraise_callback_error
from ._compile_cache import SharedCache, freeze, fun_key
from ._split import TreeSplit, fun_name, unhashable_error
from ._wrapper_base import DonationWarnings, TransformWrapper, reject_reserved

_LEADING = if_array(0)
_RESERVED = ("static_broadcasted_argnums", "donate_argnums")


class _Shared:
    """The compiled `jax.pmap`s of every wrapper with the same static callable and
    settings (see `_compile_cache.py`), one per argument layout and static part."""

    def __init__(self, split: TreeSplit, quiet: bool) -> None:
        self.rebuild_fun = split.rebuild
        self.warnings = DonationWarnings() if quiet else None
        self.compiled: dict[Any, Any] = {}


_REGISTRY: SharedCache[_Shared] = SharedCache()


def _finish(out: Any) -> Any:
    mapped, unmapped, meta = out
    return join_output(mapped, unmapped, meta.value)


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
        settings = (in_axes, out_axes, axis_name, axis_size, donate, pmapkwargs)
        super().__init__(fun, settings)
        arrays, split, key = fun_key(fun)
        self._fun = fun
        self._fun_arrays = tuple(arrays)
        self._in_axes = in_axes
        self._out_axes = out_axes
        self._axis_name = axis_name
        self._axis_size = axis_size
        if donate != "none":
            pmapkwargs = {**pmapkwargs, "donate_argnums": (0,)}
        self._pmapkwargs = pmapkwargs
        self._name = f"filter_pmap({fun_name(fun)})"
        shared_key = None if key is None else (key, freeze(settings))
        self._shared = _REGISTRY.get(
            shared_key, lambda: _Shared(split, quiet=donate == "all")
        )

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        compiled, inputs = self._prepare(args, kwargs, checks_enabled())
        silencer = self._shared.warnings
        try:
            return _finish(compiled(*inputs))
        except jax.errors.JaxRuntimeError as e:
            reraise_callback_error(e)
            raise
        finally:
            if silencer is not None:
                silencer.disarm()

    def lower(self, /, *args: Any, **kwargs: Any) -> Lowered:
        """Lower for these arguments, for ahead-of-time compilation, as
        `filter_jit(f).lower`; the compiled object takes arguments like these."""
        setting = checks_enabled()
        compiled, inputs = self._prepare(args, kwargs, setting)

        def prepare(a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Any, ...]:
            again, new_inputs = self._prepare(a, k, setting)
            if again is not compiled:
                raise TransformError(
                    f"{self._name}: a compiled function must be called with "
                    "arguments like those it was lowered with (same structure, "
                    "non-array leaves and mapped axes). Lower it again for these."
                )
            return new_inputs

        return Lowered(compiled.lower(*inputs), prepare, _finish)

    def _prepare(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], setting: Any
    ) -> tuple[Any, tuple[Any, ...]]:
        split = split_mapped_args(
            self._name, self._fun, self._in_axes, args, kwargs, pass_all_arrays=True
        )
        # Which positions hold arrays is not in the treedef: (array, 3) and
        # (3, array) share one; the mapped positions tell them apart. Checks run
        # while tracing: each `setting` of `typedeqx.checks` has its own trace.
        key = (
            setting,
            split.treedef,
            tuple(split.mapped),
            tuple(split.axes),
            tuple(split.fixed_leaves),
        )
        try:
            compiled = self._shared.compiled.get(key)
        except TypeError:
            raise unhashable_error(self._name, (args, {})) from None
        if compiled is None:
            compiled = self._shared.compiled[key] = self._compile(split)
        inputs: tuple[Any, ...] = (split.dynamic, self._fun_arrays)
        if all(axis is None for axis in split.axes):
            inputs = (*inputs, self._placeholder())
        return compiled, inputs

    def _placeholder(self) -> Any:
        # `jax.pmap` needs one mapped input; with nothing mapped, an unused one of
        # length `axis_size` stands in.
        if self._axis_size is None:
            raise TransformError(
                f"{self._name}: nothing was mapped (no in_axes selected an array), so "
                "the number of devices is unknown. Pass axis_size=..."
            )
        return jnp.zeros((self._axis_size,))

    def _compile(self, split: MappedArgs) -> Any:
        call = split.traced(self._shared.rebuild_fun, self._out_axes)
        silencer = self._shared.warnings
        if silencer is not None:
            inner = call

            def call(*inputs: Any) -> Any:
                silencer.arm()
                return inner(*inputs)

        return split.transform(
            jax.pmap,
            call,
            self._axis_name,
            self._axis_size,
            self._pmapkwargs,
            placeholder=all(axis is None for axis in split.axes),
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
    reject_reserved("filter_pmap", pmapkwargs, _RESERVED)
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
