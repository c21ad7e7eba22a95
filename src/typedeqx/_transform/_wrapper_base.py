"""What every filtered transformation's wrapper has in common.

- [`TransformWrapper`][]: name, docstring and `__wrapped__` copied from the wrapped
  callable; binding as a method when used as a decorator in a class body; and
  value equality: two wrappers are equal when they wrap equal static parts, the
  very same arrays, and equal settings. So `filter_grad(f) == filter_grad(f)`, and
  `filter_jit(filter_grad(f))` built twice finds the same compiled code.
- [`reject_reserved`][]: the check that a transformation's pass-through keyword
  arguments do not include the ones it decides itself.
- [`DonationWarnings`][]: silencing JAX's warning about donated buffers it could
  not reuse, for the one call that compiles.
- [`ArgumentTypeError`][] and [`RuleError`][]: errors that are both a
  `TransformError` and the built-in type Equinox raises for the same mistake.
"""

import warnings
from collections.abc import Callable, Iterable
from typing import Any

from .._errors import TransformError
from .._module import BoundMethod
from ._compile_cache import freeze, fun_key, hashable_or_none
from ._split import describe_leaf, fun_name


class ArgumentTypeError(TransformError, TypeError):
    """A transformed function was called with arguments of the wrong kind (say the
    argument to differentiate passed by keyword)."""


class RuleError(TransformError, RuntimeError):
    """A derivative rule or a callback broke its contract at trace or run time."""


for _cls in (ArgumentTypeError, RuleError):
    _cls.__module__ = "typedeqx"
del _cls


def reject_reserved(name: str, kwargs: Iterable[str], reserved: Iterable[str]) -> None:
    """Raise if a transformation's pass-through `kwargs` name an argument the
    transformation sets itself.

    **Arguments:**

    - `name`: the transformation, say `"filter_jit"`.
    - `kwargs`: the names of the keyword arguments passed on to JAX.
    - `reserved`: the names it must not be given.
    """
    given = set(kwargs)
    clash = [k for k in reserved if k in given]
    if clash:
        raise TransformError(
            f"{name} decides what is static, differentiated and donated itself; it "
            f"does not take {clash}. Pass non-arrays to make them static, pack what "
            "to differentiate into the first argument, or use `donate=`."
        )


_UNUSABLE_DONATION = "Some donated buffers were not usable"


class DonationWarnings:
    """Silences JAX's warning about donated buffers it could not reuse.

    JAX warns while compiling, inside the call that traced. The trace calls
    `arm()`; the call calls `disarm()` when it ends (in a `finally`), so calls that
    do not compile pay nothing but one attribute check.
    """

    __slots__ = ("_guard",)

    def __init__(self) -> None:
        self._guard: Any = None

    def arm(self) -> None:
        """Start ignoring the warning, until `disarm()`."""
        if self._guard is None:
            guard = warnings.catch_warnings()
            guard.__enter__()
            warnings.filterwarnings("ignore", message=_UNUSABLE_DONATION)
            self._guard = guard

    def disarm(self) -> None:
        """Stop ignoring the warning (a no-op when not armed)."""
        guard = self._guard
        if guard is not None:
            self._guard = None
            guard.__exit__(None, None, None)


def _identity(fun: Any, params: tuple[Any, ...]) -> Any:
    arrays, _, key = fun_key(fun)
    if key is None:
        return None
    # Arrays by identity: the wrapper holds them, so the ids stay unique while the
    # wrapper (and any key holding the wrapper) is alive.
    return hashable_or_none((key, tuple(map(id, arrays)), freeze(params)))


class TransformWrapper:
    """Base of the callables returned by the filtered transformations.

    Copies `fun`'s name and docstring, exposes it as `__wrapped__`, and binds like a
    method when used as a decorator inside a class body: `instance.method(...)`
    calls the wrapper with `instance` as first argument, and the bound object is a
    PyTree whose leaves are the instance's.

    Subclasses pass their settings as `params`, in the order their constructor
    takes them after `fun` (so `__typedeqx_rewrap__` can build another); wrappers
    of the same type are equal (and hash alike) when their callables have equal
    static parts and the same arrays, and their settings are equal. A wrapper whose
    callable or settings cannot be hashed is equal only to itself.
    """

    __wrapped__: Any

    def __init__(self, fun: Callable[..., Any], params: tuple[Any, ...] = ()) -> None:
        if not callable(fun):
            raise TransformError(
                f"Expected a callable to transform; got {describe_leaf(fun)}."
            )
        self.__wrapped__ = fun
        self._params = params
        self._identity = _identity(fun, params)
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                value = getattr(fun, attr)
            except AttributeError:
                continue
            if isinstance(value, str):
                object.__setattr__(self, attr, value)
        # As `functools.wraps` (and Equinox) do; a copy, so editing one leaves the
        # other alone.
        annotations = getattr(fun, "__annotations__", None)
        if isinstance(annotations, dict):
            object.__setattr__(self, "__annotations__", dict(annotations))

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __typedeqx_rewrap__(self, fun: Callable[..., Any]) -> "TransformWrapper":
        """The same transformation, with the same settings, of `fun` instead.

        `typedeqx.checked` uses it to put a transformed method's checks inside
        the transformation: the annotations describe the function itself (its
        arguments, per example under `filter_vmap`; its output, not the gradient
        `filter_grad` returns), and checks run once, while tracing.
        """
        return type(self)(fun, *self._params)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or not isinstance(other, TransformWrapper):
            return NotImplemented
        mine = self._identity
        return mine is not None and mine == other._identity

    def __hash__(self) -> int:
        mine = self._identity
        return id(self) if mine is None else hash(mine)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        bind: Any = BoundMethod  # a Module; fields `__func__`, `__self__`
        return bind(self, instance)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {fun_name(self.__wrapped__)}>"
