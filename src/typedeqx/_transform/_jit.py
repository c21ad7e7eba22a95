"""`filter_jit`: `jax.jit` where arrays are traced and every other leaf is static.

Dispatch is the hot path (see README.md in this folder for its design and a
diagram of a call's path). Per call: the memo's generated matcher, or one C++
flatten of `(args, kwargs)` plus two `itemgetter`s; then `jax.jit`'s own C++
dispatch; then the output's generated builder. Everything else is done once per
*layout* (tree structure and leaf types: which leaves are traced) and once per
static part (a `jax.jit` each, which then caches by shape and dtype), in the
registry entry shared by every wrapper of the same callable (`_compile_cache.py`).
"""

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Literal, ParamSpec, TypeVar, overload

import jax
import jax.core
import jax.tree_util as jtu

from .._caches import register_cache
from .._contracts import ShapeError, checks_enabled, reroot
from .._errors import TransformError
from .._filters import is_array
from .._module import under_construction
from .._runtime_errors import reraise
from ._aot import Lowered
from ._callback import reraise_callback_error
from ._compile_cache import SharedCache, freeze, fun_key
from ._memo import FRESH, Known, OutputToken, memo_functions, plan_memo
from ._observe import observer, report_aliases
from ._output_builder import is_plain, unpack_output
from ._split import (
    Packed,
    TreeSplit,
    fun_name,
    leaf_getter,
    merge_leaves,
    signature_or_none,
    split_tree,
    unhashable_error,
)
from ._waiting import Waiting, cache_size, needs_waiting, wait
from ._wrapper_base import DonationWarnings, TransformWrapper, reject_reserved

_P = ParamSpec("_P")
_T = TypeVar("_T")

Donate = Literal["all", "all-except-first", "warn", "warn-except-first", "none"]

# donate -> (donate the first argument, donate the rest and the callable's own
# arrays, silence unusable-buffer warnings)
_DONATE: dict[str, tuple[bool, bool, bool]] = {
    "none": (False, False, False),
    "all": (True, True, True),
    "all-except-first": (False, True, True),
    "warn": (True, True, False),
    "warn-except-first": (False, True, False),
}
_RESERVED = ("static_argnums", "static_argnames", "donate_argnums", "donate_argnames")
_flatten = jtu.tree_flatten
_REBUILT = "_typedeqx_rebuilt_arguments"  # on a ShapeError raised while tracing


def _jit_disabled() -> bool:
    return bool(getattr(jax.config, "jax_disable_jit"))  # noqa: B009 (untyped)


def _finish(out: Any) -> Any:
    return unpack_output(out)[0] if type(out) is Packed else out


class _Layout:
    """Which leaves of one call structure are traced, and the compiled functions
    for each static part seen with it, and each setting of `typedeqx.checks`
    (checks run while tracing: each setting has its own trace)."""

    __slots__ = (
        "treedef",
        "types",
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
        self.types = tuple(map(type, leaves))
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


class _Shared:
    """The compiled code of every wrapper with the same static callable, `donate`
    and `jitkwargs` (see `_compile_cache.py`): layouts, and a `jax.jit` per layout and
    static part. Holds no arrays: the callable's arrays are inputs."""

    def __init__(
        self, split: TreeSplit, name: str, donate: str, jitkwargs: dict[str, Any]
    ) -> None:
        donate_first, donate_rest, quiet = _DONATE[donate]
        self.rebuild_fun = split.rebuild
        self.name = name
        self.donating = donate_first or donate_rest
        # inputs: (callable's arrays, first argument's arrays, the other arrays)
        self.donate_argnums = (1,) * donate_first + (0, 2) * donate_rest
        self.jitkwargs = jitkwargs
        self.warnings = DonationWarnings() if quiet else None
        self.layouts: dict[tuple[Any, Any], _Layout] = {}

    def compile(
        self, layout: _Layout, key: tuple[Any, tuple[Any, ...]], watch: Any = None
    ) -> Any:
        """A `jax.jit` for `layout` and `key`: (checks setting, static part), kept
        in `layout`. With `watch` (an observer and the call's arguments, see
        `_observe.py`), a fresh one that tells the observer which Modules it
        rebuilt from which arguments, and is not kept."""
        rebuild_fun, silencer = self.rebuild_fun, self.warnings
        static = key[1]

        def traced(fun_arrays: Sequence[Any], *parts: Sequence[Any]) -> Any:
            if silencer is not None:
                silencer.arm()
            dynamic = [x for part in parts for x in part]
            leaves = merge_leaves(
                layout.size, layout.dynamic, dynamic, layout.static, static
            )
            args, kwargs = jtu.tree_unflatten(layout.treedef, leaves)
            if watch is not None:
                report_aliases(watch[0], (args, kwargs), watch[1])
            try:
                out = rebuild_fun(fun_arrays)(*args, **kwargs)
            except ShapeError as error:  # rooted at a rebuilt Module: see `_call`
                error.__dict__[_REBUILT] = (args, kwargs)
                raise
            # Under `jax.disable_jit()` this runs eagerly and returns directly.
            if _jit_disabled():
                return out
            arrays, split = split_tree(out)
            if not split.static_indices and is_plain(split.treedef):
                return out
            # Packed: the split's identity names the output structure, for its
            # builder and for the memo of the next call (see `_memo.py`).
            return Packed(split, arrays)

        traced.__name__ = traced.__qualname__ = self.name
        compiled = jax.jit(traced, donate_argnums=self.donate_argnums, **self.jitkwargs)
        if watch is None:
            layout.compiled[key] = compiled
        return compiled

    def wait_for(self, layout: _Layout, key: tuple[Any, ...]) -> Any:
        """The compiled function for `key`, from now on waiting for its results
        (see `_waiting.py`): its program holds a host callback."""
        compiled = layout.compiled[key]
        if type(compiled) is not Waiting:
            compiled = layout.compiled[key] = Waiting(compiled)
        return compiled


_REGISTRY: SharedCache[_Shared] = SharedCache()
register_cache(_REGISTRY.clear)
register_cache(memo_functions.cache_clear)


class _JitWrapper(TransformWrapper):
    """The callable returned by [`filter_jit`][]."""

    def __init__(
        self, fun: Callable[..., Any], donate: str, jitkwargs: dict[str, Any]
    ) -> None:
        super().__init__(fun, (donate, jitkwargs))
        arrays, split, key = fun_key(fun)
        self._fun_arrays = tuple(arrays)
        self._signature = signature_or_none(fun)
        self._name = f"filter_jit({fun_name(fun)})"
        shared_key = None if key is None else (key, donate, freeze(jitkwargs))
        self._shared = _REGISTRY.get(
            shared_key, lambda: _Shared(split, fun_name(fun), donate, jitkwargs)
        )
        self._last: tuple[Any, Any, Any] = (None, None, None)
        # (match, tokens, compiled, fed back, checks setting) of the previous
        # call, and the objects whose leaves are known; see _memo.py
        self._memo: tuple[Any, ...] | None = None
        self._known = Known()

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        try:
            memo = self._memo
            if (
                memo is not None
                and not kwargs
                and not under_construction
                and memo[4] is checks_enabled()
            ):
                match, tokens, compiled, fed_back, _ = memo
                table = self._known.table
                hit = match(args, table, tokens)
                if hit is not None:
                    out = compiled(self._fun_arrays, hit[0])
                    if type(out) is Packed:
                        return self._record(out, hit[1], fed_back)
                    if hit[1] is not table:
                        self._known.replace(hit[1])
                    return out
            return self._call(args, kwargs)
        except (jax.errors.JaxRuntimeError, ValueError) as e:
            # Only on the error path: a failed `filter_pure_callback` raises its
            # own exception, a failed `error_if` an `EquinoxRuntimeError`. JAX
            # reports a failed host callback as either type, depending on where
            # it was noticed; anything else is re-raised as it is.
            reraise_callback_error(e)
            reraise(e)

    def lower(self, /, *args: Any, **kwargs: Any) -> Lowered:
        """Lower (trace, without compiling) for these arguments, for ahead-of-time
        compilation: `f.lower(*args).compile()(*args)`.

        **Arguments:** as for the wrapped function.

        **Returns:**

        A `Lowered` with `as_text()` and `compile(compiler_options=None)`; the
        compiled object is callable with arguments like these (same structure,
        non-array leaves, shapes and dtypes).
        """
        layout, leaves, key, compiled = self._prepare(args, kwargs)
        if type(compiled) is Waiting:
            compiled = compiled.compiled
        lowered = compiled.lower(*self._inputs(layout, leaves))

        def prepare(a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Any, ...]:
            again, new_leaves, _, _ = self._prepare(a, k)
            if again is not layout or layout.get_static(new_leaves) != key[1]:
                raise TransformError(
                    f"{self._name}: a compiled function must be called with "
                    "arguments like those it was lowered with (same structure, "
                    "non-array leaves and leaf types). Lower it again for these."
                )
            return self._inputs(layout, new_leaves)

        return Lowered(lowered, prepare, _finish)

    def _prepare(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[_Layout, list[Any], tuple[Any, ...], Any]:
        if kwargs and self._signature is not None:
            bound = self._signature.bind(*args, **kwargs)
            args, kwargs = bound.args, bound.kwargs
        leaves, treedef = _flatten((args, kwargs))
        types = tuple(map(type, leaves))
        last_treedef, last_types, layout = self._last
        if types != last_types or treedef != last_treedef:
            layout = self._find_layout(treedef, types, leaves, args, kwargs)
        key = (checks_enabled(), layout.get_static(leaves))
        try:
            compiled = layout.compiled[key]
        except KeyError:
            compiled = self._shared.compile(layout, key)
        except TypeError:
            raise unhashable_error(self._name, (args, kwargs)) from None
        return layout, leaves, key, compiled

    def _inputs(self, layout: _Layout, leaves: list[Any]) -> tuple[Any, ...]:
        if self._shared.donating:
            return self._fun_arrays, layout.get_first(leaves), layout.get_rest(leaves)
        return self._fun_arrays, layout.get_dynamic(leaves)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        layout, leaves, key, compiled = self._prepare(args, kwargs)
        inputs = self._inputs(layout, leaves)
        watcher = observer()
        if watcher is not None:  # a dry run watching the trace (`_observe.py`)
            compiled = self._shared.compile(layout, key, (watcher, (args, kwargs)))
        memo = layout.memo
        memoise = memo is not None and not (
            self._shared.donating or kwargs or under_construction
        )
        # An object under construction may still change, and donated buffers are
        # deleted by the call: memoise nothing then.
        entries: dict[int, Any] = {}
        match: Any = None
        tokens: Any = None
        if memo is not None and memoise:
            make, match = memo
            tokens = make(args, inputs[1], self._known, FRESH, entries)
            self._memo = (match, tokens, compiled, False, key[0])
        elif not self._shared.donating:
            self._memo = None
            self._known.table.clear()
        try:
            out = self._run(layout, key, compiled, inputs)
        except ShapeError as error:
            # A check failed while tracing, on a Module the trace rebuilt from an
            # argument: name the argument's place in the caller's model instead.
            rebuilt = error.__dict__.pop(_REBUILT, None)
            if rebuilt is not None:
                reroot(error, rebuilt, (args, kwargs))
            raise
        if memoise:
            fed_back = OutputToken in map(type, tokens)
            self._memo = (match, tokens, layout.compiled[key], fed_back, key[0])
            if type(out) is Packed:
                return self._record(out, entries, True)
            self._known.replace(entries)
            return out
        return _finish(out)

    def _run(
        self, layout: _Layout, key: Any, compiled: Any, inputs: tuple[Any, ...]
    ) -> Any:
        """Call `compiled`; if the call made a program that holds a host callback,
        wait for it, now and on every later call (see `_waiting.py`)."""
        silencer = self._shared.warnings
        size = cache_size(compiled)
        try:
            out = compiled(*inputs)
        except BaseException:
            # A program that ran and failed (a host callback raised) must wait
            # from now on. Looking traces again, so a call that failed while
            # tracing fails there once more: that second error is not the user's.
            with contextlib.suppress(Exception):
                self._wait_if_called_back(layout, key, compiled, size, inputs)
            raise
        finally:
            if silencer is not None:
                silencer.disarm()
        if self._wait_if_called_back(layout, key, compiled, size, inputs):
            wait(out)
        return out

    def _wait_if_called_back(
        self,
        layout: _Layout,
        key: Any,
        compiled: Any,
        size: int,
        inputs: tuple[Any, ...],
    ) -> bool:
        """Whether the call just made a program holding a host callback; if so,
        every later call of it waits too."""
        waits = needs_waiting(compiled, size, inputs)
        if waits:
            self._shared.wait_for(layout, key)
        return waits

    def _record(self, out: Any, entries: dict[int, Any], outputs: bool) -> Any:
        """Unpack `out`; remember the objects of this call's arguments (`entries`)
        and, with `outputs`, of its output, whose leaves the next call need not
        flatten. A memoised call records its outputs only if its arguments were
        outputs of an earlier call (a training loop); a call that flattened always
        does, since the next one may pass them back."""
        output = out.split.output
        if output is None:
            tree, output = unpack_output(out)
        else:
            tree = output.build(out.arrays)
        known = self._known
        if outputs and output.make is not None:
            output.make((tree,), out.arrays, known, output.tokens, entries)
        known.replace(entries)
        return tree

    def _find_layout(
        self, treedef: Any, types: Any, leaves: list[Any], args: Any, kwargs: Any
    ) -> _Layout:
        key = (treedef, types)
        layouts = self._shared.layouts
        try:
            layout = layouts.get(key)
        except TypeError:
            raise unhashable_error(self._name, (args, kwargs)) from None
        if layout is None:
            layout = layouts[key] = _Layout(treedef, leaves, args, kwargs)
        self._last = (treedef, types, layout)
        return layout


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
    per distinct static part, per distinct array shapes and dtypes, and per
    setting of [`checks`][] (contracts and value checks run while tracing). Non-array
    outputs are returned as they are. A call that passes the very same modules as
    the previous call (an evaluation loop), or the modules and optimiser state the
    previous call returned (a training loop), does not flatten them again.

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
        Arrays held by `fun` itself (a callable module's weights) are donated with
        the rest: with `"all"` or `"warn"` (and the `-except-first` forms) they
        are consumed by the call, as in Equinox.
    - `**jitkwargs`: passed on to `jax.jit` (not `static_argnums`,
        `static_argnames`, `donate_argnums` or `donate_argnames`).

    **Returns:**

    The compiled function, with the signature of `fun`.

    ```python
    import jax
    import jax.numpy as jnp
    import typedeqx

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
    reject_reserved("filter_jit", jitkwargs, _RESERVED)
    if fun is None:

        def decorator(f: Callable[_P, _T]) -> Callable[_P, _T]:
            return filter_jit(f, donate=donate, **jitkwargs)

        return decorator
    return _JitWrapper(fun, donate, jitkwargs)
