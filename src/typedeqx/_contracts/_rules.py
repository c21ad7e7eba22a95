"""Layer rules: the parts of a contract that an array annotation cannot state.

A layer attaches rules to an argument's annotation with `Annotated`, next to the
annotation they refine, so the contract is stated once:

```python fragment
x: Annotated[
    Inexact[ArrayIn, "in_channels *spatial"],
    Rank("num_spatial_dims + 1", "a channel axis and {num_spatial_dims} spatial axes"),
    SameDtype("weight"),
]
```

The checker runs them in the same pass as the annotation, with the bindings of the
call (the module's fields, static sizes, and the arguments checked before), before
the annotation's own generic mismatch: so a rank error says which rank and why,
and the message shows the annotation itself as the expected value. A guard
(`When`, `Unless`) makes an alternative of a union apply only for some
configuration, and an alternative that does not apply is left out of the message.
Every rule reads only what the call's memo key covers (shapes, dtypes, static
fields), so a verdict stays memoisable.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.dtypes import TypePromotionError

from ._bindings import Bindings
from ._dims import Problem
from ._shape_error import short_array, short_dtype

__all__ = [
    "AtLeast",
    "Divisible",
    "Promotes",
    "Rank",
    "Rule",
    "SameDtype",
    "Unless",
    "When",
    "canonical",
]


def canonical(dtype: Any) -> Any:
    """The dtype JAX gives an array of `dtype` (float64 -> float32 without x64)."""
    return jax.dtypes.canonicalize_dtype(dtype)


class Rule:
    """A check on an array argument's shape and dtype, given the call's bindings.

    `names` are the bindings the rule reads, shown with their sources when it fails.
    """

    names: tuple[str, ...] = ()
    score = 3  # how close a value that breaks it came (see `Problem.score`)
    pins_rank = False  # whether it fixes the rank exactly (for the fix finder)
    # A built-in exception type the error must also be an instance of, where the
    # reference library raises one that is neither TypeError nor ValueError for
    # this broken rule (Equinox's pools assert their rank: `AssertionError`).
    raises: type[Exception] | None = None

    @property
    def shown(self) -> tuple[str, ...]:
        """The bindings a message lists with their sources (a rule whose detail
        already states them shows none)."""
        return self.names

    def applies(self, b: Bindings) -> bool:
        """Whether the annotation this rule refines applies at all (a guard)."""
        return True

    def check(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> str | None:
        """`None` when the value keeps the rule; else what is wrong, for the
        message (e.g. `"got rank 4, expected rank 3: ..."`)."""
        return None

    def fix_dtype(self, b: Bindings) -> Any:
        """The dtype that would satisfy this rule, if it is about dtypes."""
        return None


def _value(b: Bindings, name: str) -> Any:
    if name in b.sizes:
        return b.sizes[name]
    return b.arguments.get(name)


def _resolve(b: Bindings, path: str) -> Any:
    head, *rest = path.split(".")
    value = b.arguments.get(head)
    for name in rest:
        value = getattr(value, name, None)
    return value


def _is_dtype(value: Any) -> bool:
    return isinstance(value, (np.dtype, type))


def field_dtype(b: Bindings, path: str) -> Any:
    """The dtype named by the field `path`: an array field's dtype, or a static
    dtype field itself (RoPE's `dtype`); a dotted path reads a sub-layer's field
    (`"value_proj.weight"`). `None` when there is none (a missing field, `None`)."""
    value = _resolve(b, path)
    if value is None:
        return None
    if not _is_dtype(value):
        return getattr(value, "dtype", None)
    try:
        return jnp.dtype(value)
    except TypeError:
        return None


def _named(b: Bindings, path: str, dtype: Any) -> str:
    """`weight's dtype float32`, or `dtype=float32` for a static dtype field."""
    if _is_dtype(_resolve(b, path)):
        return f"{path}={dtype}"
    return f"{path}'s dtype {dtype}"


@dataclasses.dataclass(frozen=True)
class Rank(Rule):
    """The rank is `expression`, evaluated over the bindings and fields
    (`"num_spatial_dims + 1"`, `"len(target_shape) + 1"`). `meaning` says what the
    axes are, with `{name}` replaced by bound values. With `at_least`, the rank
    is a minimum. `raises` names a built-in exception type the error is also an
    instance of (`Rank(..., raises=AssertionError)` for a layer whose Equinox twin
    asserts its rank)."""

    expression: str
    meaning: str
    raises: type[Exception] | None = None
    at_least: bool = False
    names: tuple[str, ...] = ()
    code: Any = dataclasses.field(default=None, repr=False, compare=False)
    score = 2

    def __post_init__(self) -> None:
        code = compile(self.expression, "<rank rule>", "eval")
        names = tuple(n for n in code.co_names if n != "len")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "code", code)

    @property
    def shown(self) -> tuple[str, ...]:
        return ()

    @property
    def pins_rank(self) -> bool:  # type: ignore[override]
        return not self.at_least

    def rank(self, b: Bindings) -> int | None:
        scope = {name: _value(b, name) for name in self.names}
        if any(v is None for v in scope.values()):
            return None
        rank: int = eval(self.code, {"len": len}, scope)
        return rank

    def check(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> str | None:
        rank = self.rank(b)
        if rank is None or len(shape) == rank or (self.at_least and len(shape) > rank):
            return None
        meaning = self.meaning.format(**{n: _value(b, n) for n in self.names})
        expected = f"{rank} or more" if self.at_least else f"{rank}"
        return f"got rank {len(shape)}, expected rank {expected}: {meaning}"


@dataclasses.dataclass(frozen=True)
class SameDtype(Rule):
    """The dtype is the dtype of the array field `field` (after JAX's
    canonicalisation, so a float64 NumPy array is float32 without x64, as it is
    under `jit`). Nothing is required when the field is not an array."""

    field: str
    score = 1

    def _wanted(self, b: Bindings) -> Any:
        return field_dtype(b, self.field)

    def check(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> str | None:
        wanted = self._wanted(b)
        if wanted is None or canonical(dtype) == wanted:
            return None
        expected = _named(b, self.field, wanted)
        return f"got dtype {short_dtype(dtype)}, expected {expected}"

    def fix_dtype(self, b: Bindings) -> Any:
        return self._wanted(b)


@dataclasses.dataclass(frozen=True)
class Promotes(SameDtype):
    """The dtype promotes with the dtype of the field `field` under JAX's current
    promotion rules (`jax_numpy_dtype_promotion`): under `"strict"`, a bfloat16
    input to a float32 layer would fail inside JAX. `field` is an array field
    (`"weight"`), a static dtype field (`"dtype"`), or a sub-layer's array field
    (`"value_proj.weight"`: the contract belongs on the argument the user passed,
    not on the sub-layer it reaches). A verdict memoised under one promotion mode
    is kept if the mode changes later; a sub-layer's dtype is not in the memo key,
    so after a sub-layer's dtype changes the sub-layer's own contract still holds.
    (It shares `SameDtype`'s field lookup and fix, and checks less.)
    """

    def check(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> str | None:
        wanted = self._wanted(b)
        if wanted is None:
            return None
        try:
            jnp.result_type(canonical(dtype), wanted)
        except TypePromotionError:
            setting = getattr(jax.config, "jax_numpy_dtype_promotion")  # noqa: B009
            mode = getattr(setting, "value", setting)
            return (
                f"got dtype {short_dtype(dtype)}, which does not promote with "
                f"{_named(b, self.field, wanted)} under jax_numpy_dtype_promotion="
                f"{mode!r}"
            )
        return None


@dataclasses.dataclass(frozen=True)
class Divisible(Rule):
    """Axis `axis` has a size divisible by the static field `by`."""

    axis: int
    by: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", (self.by,))

    def check(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> str | None:
        by = _value(b, self.by)
        if not isinstance(by, int) or not shape or by <= 0:
            return None
        size = shape[self.axis]
        if size % by == 0:
            return None
        return f"axis {self.axis} has size {size}, not divisible by {self.by}={by}"


@dataclasses.dataclass(frozen=True)
class AtLeast(Rule):
    """Each axis from `first` on is at least as long as the matching entry of the
    static tuple field `sizes` (an adaptive pool's input against its
    `target_shape`); `why` says what a shorter axis would break. `raises` as for
    `Rank`."""

    sizes: str
    first: int
    why: str
    raises: type[Exception] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", ("*" + self.sizes,))

    def check(self, shape: tuple[int, ...], dtype: Any, b: Bindings) -> str | None:
        sizes = b.arguments.get(self.sizes)
        if not isinstance(sizes, tuple):
            return None
        for index, (size, least) in enumerate(zip(shape[self.first :], sizes)):
            if size < least:
                axis = index + self.first
                return (
                    f"axis {axis} has size {size}, shorter than "
                    f"{self.sizes}[{index}]={least}: {self.why}"
                )
        return None


@dataclasses.dataclass(frozen=True)
class When(Rule):
    """A guard: the annotation applies only while the field `field` is `value`."""

    field: str
    value: Any

    def applies(self, b: Bindings) -> bool:
        return bool(b.arguments.get(self.field) == self.value)


@dataclasses.dataclass(frozen=True)
class Unless(Rule):
    """A guard: the annotation applies unless the field `field` is `value`."""

    field: str
    value: Any

    def applies(self, b: Bindings) -> bool:
        return bool(b.arguments.get(self.field) != self.value)


def check_rules(
    rules: tuple[Rule, ...],
    shape: Any,
    dtype: Any,
    text: str,
    b: Bindings,
    before: bool,
) -> Problem | None:
    """The first broken rule as a `Problem` against the annotation `text`: of the
    rank and dtype rules (`before` the annotation's axes), or of the others."""
    for rule in rules:
        if (rule.score < 3) != before:
            continue
        detail = rule.check(shape, dtype, b)
        if detail is not None:
            got = short_array(shape, dtype)
            problem = Problem(got, text, detail, rule.shown, rule.score)
            problem.raises = rule.raises
            return problem
    return None
