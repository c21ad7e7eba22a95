"""`filter_jvp` and `filter_vjp`: `jax.jvp` and `jax.vjp` for functions of
arbitrary PyTrees.

Floating-point arrays (and Python floats and complexes, which JAX also
differentiates) carry tangents and cotangents; every other leaf passes through.
A tangent that is structurally zero (an output that does not depend on the
inputs being differentiated) is `None`, as in Equinox.
"""

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.core
import jax.tree_util as jtu

from .._errors import TransformError
from .._filters import combine, is_array, is_inexact_array, partition
from ._split import Static


def _is_none(x: Any) -> bool:
    return x is None


def _trace_of(x: Any) -> Any:
    # The one private attribute used here: which trace a tracer belongs to, to tell
    # this `jax.jvp`'s outputs from constants and from an enclosing trace's.
    return getattr(x, "_trace", None) if isinstance(x, jax.core.Tracer) else None


def filter_jvp(
    fn: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Jacobian-vector product of `fn(*primals, **kwargs)`, as `jax.jvp`.

    **Arguments:**

    - `fn`: the function; its arguments and output may be any PyTrees.
    - `primals`: the positional arguments, a sequence.
    - `tangents`: structured like `primals`, with a tangent (same shape and dtype)
        at each leaf to differentiate and `None` at every other leaf.
    - `**kwargs`: passed to `fn`, not differentiated.

    **Returns:**

    `(out, tangent_out)`: `fn`'s output, and a tree structured like it with the
    tangent at each output that depends on a differentiated input and `None`
    elsewhere. Nestable: an inner `filter_jvp` inside an outer one works.
    """
    primal_structure: Any = jtu.tree_structure(primals, is_leaf=_is_none)
    if primal_structure != jtu.tree_structure(tangents, is_leaf=_is_none):
        raise TransformError(
            "filter_jvp: tangents must have the structure of primals, with None "
            "at each leaf not differentiated; they do not match."
        )
    mask = jtu.tree_map(lambda t: t is not None, tangents, is_leaf=_is_none)
    dynamic, static = partition(primals, mask)
    flat, treedef = jtu.tree_flatten(dynamic)

    def inner(*flat_dynamic: Any) -> Any:
        traces = {id(_trace_of(x)) for x in flat_dynamic} - {id(None)}
        out = fn(*combine(jtu.tree_unflatten(treedef, flat_dynamic), static), **kwargs)
        is_ours = lambda x: id(_trace_of(x)) in traces  # noqa: E731
        traced, rest = partition(out, is_ours)
        arrays, others = partition(rest, is_array)
        return traced, arrays, Static(others)

    out, t_out = jax.jvp(inner, flat, jtu.tree_leaves(tangents))
    traced, arrays, others = out
    return combine(traced, arrays, others.value), t_out[0]


def filter_vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Vector-Jacobian product of `fun(*primals)`, as `jax.vjp`.

    **Arguments:**

    - `fun`: the function; its arguments and output may be any PyTrees.
    - `*primals`: its positional arguments.
    - `has_aux`: whether `fun` returns `(out, aux)`, with `aux` not differentiated.

    **Returns:**

    `(out, vjp_fn)`, or `(out, vjp_fn, aux)` with `has_aux`. `vjp_fn(cotangent)`
    takes a tree like `out` (arrays at its floating-point arrays, `None`
    elsewhere) and returns a tuple like `primals`, with a cotangent at each
    floating-point array and `None` elsewhere.
    """
    diff, nondiff = partition(primals, is_inexact_array)

    def inner(*d: Any) -> Any:
        out = fun(*combine(d, nondiff))
        out, aux = out if has_aux else (out, None)
        diff_out, nondiff_out = partition(out, is_inexact_array)
        return diff_out, (Static(nondiff_out), Static(aux))

    diff_out, vjp_fn, (nondiff_out, aux) = jax.vjp(inner, *diff, has_aux=True)
    out = combine(diff_out, nondiff_out.value)
    return (out, vjp_fn, aux.value) if has_aux else (out, vjp_fn)
