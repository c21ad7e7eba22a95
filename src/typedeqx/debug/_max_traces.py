"""`assert_max_traces` and `get_num_traces`: count how often a function runs,
which under `jit` is how often it is traced (compiled)."""

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from typing_extensions import ParamSpec

from .._module import Module, field, module_update_wrapper
from .._pretty import tree_pformat
from .._transform import filter_eval_shape
from .._tree import tree_equal

_T = TypeVar("_T")
_P = ParamSpec("_P")


class _Counter:
    """The trace count shared by a wrapper and every copy of it that flattening
    and unflattening make (it is static, so copies hold this same object)."""

    __slots__ = ("count", "seen", "__weakref__")

    def __init__(self) -> None:
        self.count = 0
        # Per argument name, the shapes and dtypes of each traced call.
        self.seen: dict[str, list[Any]] = {}


class _AssertMaxTraces(Module):
    fn: Callable[..., Any]
    max_traces: int | None = field(static=True)
    counter: _Counter = field(static=True)

    def __init__(
        self, fn: Callable[..., Any], max_traces: int | None, counter: _Counter
    ) -> None:
        self.fn = fn
        self.max_traces = max_traces
        self.counter = counter

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        counter = self.counter
        counter.count += 1
        arguments = inspect.signature(self.fn).bind(*args, **kwargs).arguments
        structs = {
            name: filter_eval_shape(lambda v=value: v)
            for name, value in arguments.items()
        }
        if self.max_traces is not None and counter.count > self.max_traces:
            raise RuntimeError(self._too_many(structs))
        for name, struct in structs.items():
            counter.seen.setdefault(name, []).append(struct)
        return self.fn(*args, **kwargs)

    def _too_many(self, structs: dict[str, Any]) -> str:
        head = (
            f"{self.fn} can only be traced {self.max_traces} times (set by "
            f"assert_max_traces), but this is trace number {self.counter.count}."
        )
        for name, struct in structs.items():
            previous = self.counter.seen.get(name, [])
            if not any(tree_equal(struct, p) is True for p in previous):
                now = tree_pformat(struct, struct_as_array=True)
                before = "\n".join(
                    tree_pformat(p, struct_as_array=True) for p in previous
                )
                return (
                    f"{head} The argument '{name}' appears responsible: it is now\n"
                    f"{now}\nand before was\n{before}\nMake it static, or keep its "
                    "shape, dtype and non-array parts the same between calls."
                )
        return (
            f"{head} Could not tell which argument is responsible: every one has "
            "been seen before (perhaps `jit` was wrapped around a new function, or "
            "its caches were cleared)."
        )


@overload
def assert_max_traces(
    fn: Callable[_P, _T], *, max_traces: int | None
) -> Callable[_P, _T]: ...


@overload
def assert_max_traces(
    *, max_traces: int | None
) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]: ...


def assert_max_traces(
    fn: Callable[..., Any] | None = None, *, max_traces: int | None
) -> Any:
    """Raise a `RuntimeError` when `fn` is called more than `max_traces` times.

    Placed inside `jit` (or `filter_jit`), this counts compilations:

    ```python
    >>> import jax.numpy as jnp
    >>> import typedeqx as eqx
    >>> @eqx.filter_jit
    ... @eqx.debug.assert_max_traces(max_traces=1)
    ... def f(x):
    ...     return x + 1
    >>> _ = f(jnp.array(1.0)); _ = f(jnp.array(2.0))  # same shape and dtype
    >>> eqx.debug.get_num_traces(f)
    1

    ```

    Copies made by flattening and unflattening the wrapper share one count; two
    separate `assert_max_traces(fn, ...)` wrappers count separately.

    **Arguments:**

    - `fn`: the callable to wrap. Omit it to get a decorator.
    - `max_traces`: keyword only; the most calls allowed, or `None` for no limit
        (the count is still kept for `get_num_traces`).

    **Returns:**

    The wrapped `fn` (with its name and docstring), or a decorator if `fn` was
    omitted. When a call goes past the limit, the error names the argument whose
    shape, dtype or non-array part is new.
    """
    if fn is None:
        return functools.partial(assert_max_traces, max_traces=max_traces)
    return module_update_wrapper(_AssertMaxTraces(fn, max_traces, _Counter()))


def get_num_traces(fn: Callable[..., Any]) -> int:
    """How many times a function wrapped by `assert_max_traces` has been called
    (under `jit`, traced).

    **Arguments:**

    - `fn`: the result of `assert_max_traces`, possibly wrapped further by
        wrappers that set `__wrapped__` (such as `filter_jit`).

    **Returns:**

    The number of calls so far.
    """
    found: Any = fn
    while not isinstance(found, _AssertMaxTraces):
        if not hasattr(found, "__wrapped__"):
            raise ValueError(
                f"get_num_traces takes a function wrapped by "
                f"`typedeqx.debug.assert_max_traces`; {fn} is not one (nor does a "
                "chain of `__wrapped__` attributes lead to one). Wrap it first."
            )
        found = found.__wrapped__
    return found.counter.count
