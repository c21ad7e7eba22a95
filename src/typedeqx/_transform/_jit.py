"""`filter_jit`: `jax.jit` where arrays are traced and every other leaf is static.

Dispatch is the hot path, so the work per call is kept to what a cache lookup
needs: one C++ flatten of `(args, kwargs)`, the tuple of leaf types, and two
`operator.itemgetter` calls. The rest is done once per *layout* (a tree structure
plus leaf types: which leaves are traced) and once per distinct static part (one
`jax.jit` per layout and static leaves, which then caches by shape and dtype).
Non-array outputs ride back in the output's tree structure (see `Packed`), and a
call repeating the previous one's module objects skips even the flatten (see
`_memo.py`).
"""

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal, ParamSpec, TypeVar, overload

import jax
import jax.core
import jax.tree_util as jtu

from .._errors import TransformError
from .._filters import is_array
from ._callback import callback_error
from ._common import (
    Packed,
    TransformWrapper,
    fun_name,
    leaf_getter,
    merge_leaves,
    pack,
    signature_or_none,
    split_fun,
    unhashable_error,
)
from ._memo import memo_functions, plan_memo

_P = ParamSpec("_P")
_T = TypeVar("_T")

Donate = Literal["all", "all-except-first", "warn", "warn-except-first", "none"]

# donate -> (donate the first argument, donate the rest, silence unusable-buffer
# warnings)
_DONATE: dict[str, tuple[bool, bool, bool]] = {
    "none": (False, False, False),
    "all": (True, True, True),
    "all-except-first": (False, True, True),
    "warn": (True, True, False),
    "warn-except-first": (False, True, False),
}
_RESERVED = ("static_argnums", "static_argnames", "donate_argnums", "donate_argnames")
_UNUSABLE_DONATION = "Some donated buffers were not usable"
_flatten = jtu.tree_flatten


def _jit_disabled() -> bool:
    return bool(getattr(jax.config, "jax_disable_jit"))  # noqa: B009 (untyped)


class _Layout:
    """Which leaves of one call structure are traced, and the compiled functions
    for each static part seen with it."""

    __slots__ = (
        "treedef",
        "size",
        "dynamic",
        "static",
        "get_dynamic",
        "get_static",
        "get_first",
        "get_rest",
        "compiled",
        "memo",
    )

    def __init__(
        self, treedef: Any, leaves: Sequence[Any], args: Any, kwargs: Any
    ) -> None:
        first_size = len(jtu.tree_leaves(args[0])) if args else 0
        self.treedef = treedef
        self.size = len(leaves)
        self.dynamic = [i for i, x in enumerate(leaves) if is_array(x)]
        self.static = [i for i, x in enumerate(leaves) if not is_array(x)]
        self.get_dynamic = leaf_getter(self.dynamic)
        self.get_static = leaf_getter(self.static)
        self.get_first = leaf_getter([i for i in self.dynamic if i < first_size])
        self.get_rest = leaf_getter([i for i in self.dynamic if i >= first_size])
        self.compiled: dict[tuple[Any, ...], Any] = {}
        # No memo for calls under a transformation: it would keep tracers alive.
        traced = any(isinstance(x, jax.core.Tracer) for x in leaves)
        plan = None if kwargs or traced else plan_memo(args)
        self.memo = None if plan is None else memo_functions(plan)


class _JitWrapper(TransformWrapper):
    """The callable returned by [`filter_jit`][]."""

    def __init__(
        self, fun: Callable[..., Any], donate: str, jitkwargs: dict[str, Any]
    ) -> None:
        super().__init__(fun)
        self._fun_arrays, self._rebuild_fun = split_fun(fun)
        self._signature = signature_or_none(fun)
        self._name = f"filter_jit({fun_name(fun)})"
        donate_first, donate_rest, self._quiet = _DONATE[donate]
        self._donating = donate_first or donate_rest
        self._donate_argnums = (1,) * donate_first + (2,) * donate_rest
        self._jitkwargs = jitkwargs
        self._layouts: dict[tuple[Any, Any], _Layout] = {}
        self._last: tuple[Any, Any, Any] = (None, None, None)
        self._guard: Any = None
        # (match, refs, pieces, compiled) of the previous call; see _memo.py
        self._memo: tuple[Any, ...] | None = None

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        try:
            memo = self._memo
            if memo is not None and not kwargs:
                match, refs, pieces, compiled = memo
                dynamic = match(args, refs, pieces)
                if dynamic is not None:
                    out = compiled(self._fun_arrays, dynamic)
                    return out.unpack() if type(out) is Packed else out
            out = self._call(args, kwargs)
            return out.unpack() if type(out) is Packed else out
        except jax.errors.JaxRuntimeError as e:
            # A failed filter_pure_callback: raise what the callback raised.
            original = callback_error(e)
            if original is None:
                raise
            raise original from None

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if kwargs and self._signature is not None:
            bound = self._signature.bind(*args, **kwargs)
            args, kwargs = bound.args, bound.kwargs
        leaves, treedef = _flatten((args, kwargs))
        types = tuple(map(type, leaves))
        last_treedef, last_types, layout = self._last
        if types != last_types or treedef != last_treedef:
            layout = self._find_layout(treedef, types, leaves, args, kwargs)
        static = layout.get_static(leaves)
        try:
            compiled = layout.compiled[static]
        except KeyError:
            compiled = self._compile(layout, static)
        except TypeError:
            raise unhashable_error(self._name, (args, kwargs)) from None
        if not self._donating:
            dynamic = layout.get_dynamic(leaves)
            if layout.memo is None:
                self._memo = None
            else:
                make, match = layout.memo
                self._memo = (match, *make(args, dynamic), compiled)
            return compiled(self._fun_arrays, dynamic)
        try:
            first, rest = layout.get_first(leaves), layout.get_rest(leaves)
            return compiled(self._fun_arrays, first, rest)
        finally:
            self._disarm()

    def _find_layout(
        self, treedef: Any, types: Any, leaves: list[Any], args: Any, kwargs: Any
    ) -> _Layout:
        key = (treedef, types)
        try:
            layout = self._layouts.get(key)
        except TypeError:
            raise unhashable_error(self._name, (args, kwargs)) from None
        if layout is None:
            layout = self._layouts[key] = _Layout(treedef, leaves, args, kwargs)
        self._last = (treedef, types, layout)
        return layout

    def _compile(self, layout: _Layout, static: tuple[Any, ...]) -> Any:
        rebuild_fun = self._rebuild_fun

        def traced(fun_arrays: Sequence[Any], *parts: Sequence[Any]) -> Any:
            if self._quiet:
                self._arm()
            dynamic = [x for part in parts for x in part]
            leaves = merge_leaves(
                layout.size, layout.dynamic, dynamic, layout.static, static
            )
            args, kwargs = jtu.tree_unflatten(layout.treedef, leaves)
            out = rebuild_fun(fun_arrays)(*args, **kwargs)
            # Under `jax.disable_jit()` this runs eagerly and returns directly.
            return out if _jit_disabled() else pack(out)

        traced.__name__ = traced.__qualname__ = fun_name(self.__wrapped__)
        compiled = jax.jit(
            traced, donate_argnums=self._donate_argnums, **self._jitkwargs
        )
        layout.compiled[static] = compiled
        return compiled

    # JAX warns about unusable donations while lowering, which happens inside the
    # call that traced; the trace arms a filter that the call removes when it ends.
    def _arm(self) -> None:
        if self._guard is None:
            guard = warnings.catch_warnings()
            guard.__enter__()
            warnings.filterwarnings("ignore", message=_UNUSABLE_DONATION)
            self._guard = guard

    def _disarm(self) -> None:
        guard = self._guard
        if guard is not None:
            self._guard = None
            guard.__exit__(None, None, None)


@overload
def filter_jit(
    *, donate: Donate = "none", **jitkwargs: Any
) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]: ...


@overload
def filter_jit(
    fun: Callable[_P, _T], *, donate: Donate = "none", **jitkwargs: Any
) -> Callable[_P, _T]: ...


def filter_jit(
    fun: Callable[_P, _T] | None = None,
    *,
    donate: Donate = "none",
    **jitkwargs: Any,
) -> Any:
    """Compile `fun` with `jax.jit`, tracing every array and holding the rest static.

    Every JAX or NumPy array in the arguments (and in `fun` itself, say the module
    of a bound method) is traced; every other leaf (Python numbers and bools,
    functions, strings, ...) is static and must be hashable. `fun` is compiled once
    per distinct static part and per distinct array shapes and dtypes. Non-array
    outputs are returned as they are. A call that passes the very same modules as
    the previous call (an evaluation loop) does not flatten them again.

    **Arguments:**

    - `fun`: the function to compile. May be omitted, to use `filter_jit(donate=...)`
        as a decorator.
    - `donate`: which argument buffers to donate to the computation:
        - `"none"` (default): none.
        - `"all"`: every array argument; warnings about buffers JAX could not reuse
            are silenced.
        - `"all-except-first"`: every array argument except those in the first.
        - `"warn"`, `"warn-except-first"`: as `"all"` and `"all-except-first"`, but
            the warnings are kept.
        Arrays held by `fun` itself are never donated: they are reused every call.
    - `**jitkwargs`: passed on to `jax.jit` (not `static_argnums`,
        `static_argnames`, `donate_argnums` or `donate_argnames`).

    **Returns:**

    The compiled function, with the signature of `fun`.

    ```python
    @typedeqx.filter_jit
    def f(x, activation):
        return activation(x)

    f(jnp.ones(3), jax.nn.relu)  # x traced, activation static
    ```
    """
    if donate not in _DONATE:
        raise TransformError(
            f"filter_jit(donate=...) must be one of {sorted(_DONATE)}; got {donate!r}."
        )
    reserved = [k for k in _RESERVED if k in jitkwargs]
    if reserved:
        raise TransformError(
            f"filter_jit decides what is static and donated itself; it does not take "
            f"{reserved}. Pass non-arrays to make them static, or use `donate=`."
        )
    if fun is None:

        def decorator(f: Callable[_P, _T]) -> Callable[_P, _T]:
            return filter_jit(f, donate=donate, **jitkwargs)

        return decorator
    return _JitWrapper(fun, donate, jitkwargs)
