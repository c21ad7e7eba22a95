"""The fix finder: edits of a value that would make it keep its contract.

After an argument fails its contract, a small set of edits of its shape and dtype
is tried against the same annotation, rules and bindings (abstractly: no value is
computed): map over leading axes, add or drop a unit axis, move the last axis to
the front or back, transpose a matrix, flatten, index out unit axes, cast to the
dtype the contract names, and for boolean masks compare with zero. Only an edit
that passes is shown, as code with the argument's name; when none passes, nothing
is said (a wrong hint is worse than none). `tests/test_contracts_fixes.py` checks
both halves of that promise on random contracts and shapes.
"""

import dataclasses
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._bindings import Bindings
from ._nodes import ArrayNode, Node, UnionNode
from ._rules import canonical
from ._shape_error import short_array

__all__ = ["Edit", "Fix", "array_options", "find_fix", "passes"]

_MAX_MAPPED = 2  # leading axes a `jax.vmap` edit maps over at most


@dataclasses.dataclass(frozen=True)
class Edit:
    """One edit of a shape: `apply` gives the new shape, `code` renders it on an
    expression (`"x"` -> `"x[None]"`); `mapped` leading axes go to `jax.vmap`."""

    apply: Callable[[tuple[int, ...]], tuple[int, ...]]
    code: Callable[[str], str]
    mapped: int = 0


@dataclasses.dataclass(frozen=True)
class Fix:
    """An edit that passes: the new shape and dtype, and how to say it."""

    shape: tuple[int, ...]
    dtype: Any
    expression: str  # the edited argument, e.g. `jnp.moveaxis(x, -1, 0)`
    mapped: int  # leading axes to map over with `jax.vmap` first
    mask_note: bool  # a boolean mask made from a numeric one (two readings)


def array_options(node: Node, b: Bindings) -> list[ArrayNode]:
    """The array annotations of `node` that apply under `b` (guards hold)."""
    if isinstance(node, ArrayNode):
        return [node] if node.applies(b) else []
    if isinstance(node, UnionNode):
        return [a for o in node.options for a in array_options(o, b)]
    return []


def pins_rank(option: ArrayNode, b: Bindings) -> bool:
    """Whether `option` fixes the rank under `b`: no variadic axes, a variadic bound
    already (`*shape` by a static shape), or an exact rank rule (a minimum rank
    pins nothing). Against a free `*spatial` an edit of the shape passes too easily
    to mean anything (a batch of 5 `(16, 8)` inputs also "fits" as `(16, 8, 5)`), so
    none is suggested."""
    spec = option.spec
    if any(r.pins_rank for r in option.rules):
        return True
    if not spec.any_rank:
        return True
    return spec.variadic is not None and spec.variadic[0] in b.shapes


def passes(
    options: list[ArrayNode],
    shape: tuple[int, ...],
    dtype: Any,
    b: Bindings,
    reshaped: bool = False,
) -> bool:
    """Whether an array of `shape` and `dtype` keeps one of `options` under `b`
    (with `reshaped`, only one of those that pin the rank)."""
    for option in options:
        if reshaped and not pins_rank(option, b):
            continue
        scratch = b.copy()
        if option.check_abstract(shape, dtype, scratch) is None:
            return True
    return False


def _shape_edits(shape: tuple[int, ...]) -> Iterator[Edit]:
    """The shape edits worth trying for `shape`, most plausible first."""
    rank = len(shape)
    yield Edit(_same_shape, _same)
    for i, size in enumerate(shape):
        if size == 1:
            yield _drop(i, rank)
    if rank >= 3 and shape.count(1) >= 2 and shape[0] != 1:
        units = tuple(i for i in range(1, rank) if shape[i] == 1)
        index = ", ".join("0" if i in units else ":" for i in range(rank))
        index = index.rstrip(", :")  # `x[:, 0, 0]`: trailing axes stay
        yield Edit(functools.partial(_without, units), f"{{}}[{index}]".format)
    for k in range(1, min(_MAX_MAPPED, rank) + 1):
        yield Edit(functools.partial(_after, k), _same, mapped=k)
    if rank >= 3:
        yield Edit(lambda s: s[-1:] + s[:-1], lambda x: f"jnp.moveaxis({x}, -1, 0)")
        yield Edit(lambda s: s[1:] + s[:1], lambda x: f"jnp.moveaxis({x}, 0, -1)")
    if rank == 2:
        yield Edit(lambda s: s[::-1], lambda x: f"{x}.T")
    if rank >= 2:
        yield Edit(lambda s: (math.prod(s),), lambda x: f"{x}.reshape(-1)")
    yield Edit(lambda s: (1, *s), lambda x: f"{x}[None]")
    yield Edit(lambda s: (*s, 1), lambda x: f"{x}[..., None]")


def _without(axes: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _after(k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[k:]


def _same(x: str) -> str:
    return x


def _same_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape


def _drop(axis: int, rank: int) -> Edit:
    if axis == 0:
        code: Callable[[str], str] = lambda x: f"{x}[0]"  # noqa: E731
    elif axis == rank - 1:
        code = lambda x: f"{x}[..., 0]"  # noqa: E731
    else:
        code = lambda x: f"jnp.squeeze({x}, axis={axis})"  # noqa: E731
    return Edit(lambda s: s[:axis] + s[axis + 1 :], code)


def _dtypes(options: list[ArrayNode], dtype: Any, b: Bindings) -> list[tuple[Any, str]]:
    """`(dtype, suffix)` pairs to try: the value's own, then the one the contract
    names (a rule's dtype, or bool for a mask), as code after the expression."""
    found: list[tuple[Any, str]] = [(dtype, "")]
    for option in options:
        spec = option.spec
        wanted = [r.fix_dtype(b) for r in option.rules]
        if not spec.accepts_dtype(dtype):
            # The module's own parameters say which float dtype it computes in.
            wanted.append(getattr(b.arguments.get("weight"), "dtype", None))
            wanted.append(canonical(np.float32))
        for target in wanted:
            if target is not None and target != dtype and spec.accepts_dtype(target):
                found.append((target, f".astype(jnp.{np.dtype(target).name})"))
        if set(spec.dtypes or ()) <= {"bool", "bool_"} and spec.dtypes:
            if np.dtype(dtype) != np.bool_:
                found.append((np.dtype(np.bool_), " != 0"))
    return list(dict.fromkeys(found))


def find_fix(node: Node, value: Any, b: Bindings, name: str) -> Fix | None:
    """The first edit of `value` (shape and dtype only) that keeps `node` under the
    bindings `b` (those before `value` was checked, left unchanged), or `None`.

    **Arguments:**

    - `node`: the argument's compiled annotation.
    - `value`: the value that failed (only its shape and dtype are read).
    - `b`: the bindings of the call before the argument.
    - `name`: the argument's name, which the rendered code uses.

    **Returns:**

    A `Fix`, or `None` when no edit passes (or the value is not an array).
    """
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if not isinstance(shape, tuple) or dtype is None:
        return None
    options = array_options(node, b)
    if not options or passes(options, shape, dtype, b):
        return None
    dtypes = _dtypes(options, dtype, b)
    for edit in _shape_edits(shape):
        new_shape = edit.apply(shape)
        for new_dtype, suffix in dtypes:
            if (new_shape, new_dtype) == (shape, dtype):
                continue
            moved = new_shape != shape or edit.mapped > 0
            if passes(options, new_shape, new_dtype, b, moved):
                expression = edit.code(name) + suffix
                mask = suffix == " != 0"
                return Fix(new_shape, new_dtype, expression, edit.mapped, mask)
    return None


def describe_fix(fix: Fix, name: str, value: Any, mapping: str) -> str:
    """The hint for `fix`: the edit as code, and what it makes of the value.

    **Arguments:**

    - `fix`: what `find_fix` found.
    - `name`: the argument's name.
    - `value`: the value that failed.
    - `mapping`: for an edit that maps over leading axes, how to map (e.g.
        `"jax.vmap(model)(x)"`), from the caller, which knows the call stack.
    """
    fits = short_array(fix.shape, fix.dtype)
    if fix.mask_note:
        zero = fix.expression.replace(" != 0", " == 0")
        return (
            f"masks are boolean (True = attend). If {name} holds 1 where attention is "
            f"allowed, pass {fix.expression}; if it is an additive mask (0 = attend, "
            f"-inf = blocked), pass {zero} ({name}.astype(bool) would invert it)."
        )
    if fix.mapped:
        batch = value.shape[: fix.mapped]
        what = (
            f"a batch of {batch[0]} inputs"
            if fix.mapped == 1
            else f"a {'x'.join(map(str, batch))} batch of inputs"
        )
        return f"{name} looks like {what} of shape {fits}. {mapping}"
    return f"{fix.expression} would be {fits}, which fits."


def vmap_code(callee: str, mapped: int, arguments: str, in_axes: str = "") -> str:
    """`jax.vmap(jax.vmap(model))(x)`: `callee` mapped over `mapped` leading axes."""
    inner = callee
    for _ in range(mapped):
        inner = f"jax.vmap({inner}{in_axes})"
    return f"{inner}({arguments})"
