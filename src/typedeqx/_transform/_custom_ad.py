"""`filter_custom_jvp` and `filter_custom_vjp`: custom derivative rules for
functions of arbitrary PyTrees.

Arrays are the differentiable inputs and everything else is passed through as a
non-differentiable argument, so there is no `nondiff_argnums` to keep in step.
Tangents and cotangents that are zero, or belong to leaves that cannot have one
(integer arrays, non-arrays), are `None` on the user's side.
"""

import functools
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.custom_derivatives import SymbolicZero

from .._errors import TransformError
from .._filters import is_inexact_array
from ._split import Static, TreeSplit, describe_leaf, fun_name, split_tree
from ._wrapper_base import RuleError


def _zero_tangent(primal: Any) -> Any:
    if is_inexact_array(primal):
        return jnp.zeros_like(primal)
    return np.zeros(np.shape(primal), dtype=jax.dtypes.float0)


def _differentiable(primal: Any) -> bool:
    # Under `jax.jvp` or `jax.grad` of a Python scalar, JAX hands the rule the
    # scalar itself (a `float`, or a subclass of it) as the primal: it is traced,
    # so it is as differentiable as an inexact array.
    return isinstance(primal, (float, complex)) or is_inexact_array(primal)


def _none_if_zero(tangent: Any, primal: Any) -> Any:
    if isinstance(tangent, SymbolicZero) or not _differentiable(primal):
        return None
    return tangent


def _split_output(out: Any) -> tuple[list[Any], Static]:
    arrays, split = split_tree(out)
    return arrays, Static(split)


class filter_custom_jvp:
    """A function of arbitrary PyTrees with a custom forward-mode derivative.

    ```python fragment
    @typedeqx.filter_custom_jvp
    def f(x, y, *, fn):
        return fn(x, y)

    @f.def_jvp
    def f_jvp(primals, tangents, *, fn):
        x, y = primals
        tx, ty = tangents  # None where there is no tangent (y an int, or not
        ...                # differentiated)
        return f(x, y, fn=fn), tangent_out
    ```

    The positional arguments are differentiable where they hold floating-point
    arrays; keyword arguments never are. The rule gets `(primals, tangents, **kwargs)`
    with `tangents` structured like `primals` (`None` at every leaf without a
    tangent) and returns `(out, tangent_out)`; `None` in `tangent_out` means zero.
    The outputs must be arrays.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn, updated=())

        def primal(split: TreeSplit, dynamic: list[Any]) -> Any:
            args, kwargs = split.rebuild(dynamic)
            return fn(*args, **kwargs)

        self._custom = jax.custom_jvp(primal, nondiff_argnums=(0,))
        self._defined = False

    def def_jvp(self, fn_jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the derivative rule `fn_jvp(primals, tangents, **kwargs)`; returns it."""
        name = fun_name(self.fn)

        def rule(split: TreeSplit, primals: Any, tangents: Any) -> Any:
            (dynamic,), (t_dynamic,) = primals, tangents
            t_dynamic = [_none_if_zero(t, p) for t, p in zip(t_dynamic, dynamic)]
            args, kwargs = split.rebuild(dynamic)
            t_args, t_kwargs = split.rebuild_dynamic(t_dynamic)
            if jtu.tree_leaves(t_kwargs):
                raise TransformError(
                    f"filter_custom_jvp({name}): keyword arguments are not "
                    "differentiable, but one holds an array being differentiated. "
                    "Pass it by position."
                )
            out, t_out = fn_jvp(args, t_args, **kwargs)
            t_out = jtu.tree_map(
                lambda t, o: _zero_tangent(o) if t is None else t,
                t_out,
                out,
                is_leaf=lambda t: t is None,
            )
            return out, t_out

        self._custom.defjvp(rule, symbolic_zeros=True)
        self._defined = True
        return fn_jvp

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self._defined:
            raise TransformError(
                f"filter_custom_jvp({fun_name(self.fn)}) has no derivative rule yet; "
                "define one with `@f.def_jvp`."
            )
        dynamic, split = split_tree((args, kwargs))
        return self._custom(split, dynamic)


class _VjpCall:
    """How one call's arguments split: the first argument into differentiable
    arrays, other arrays and non-arrays; the rest into arrays and non-arrays."""

    def __init__(self, vjp_arg: Any, rest: Any) -> None:
        self.arrays, self.vjp = split_tree(vjp_arg)
        self.diff = {i for i, x in enumerate(self.arrays) if is_inexact_array(x)}
        self.rest_arrays, self.rest = split_tree(rest)

    def arguments(self, arrays: list[Any], rest_arrays: list[Any]) -> Any:
        vjp_arg = self.vjp.rebuild(arrays)
        args, kwargs = self.rest.rebuild(rest_arrays)
        return vjp_arg, args, kwargs


def _values(primals: list[Any]) -> list[Any]:
    return [p.value for p in primals]


class filter_custom_vjp:
    """A function of arbitrary PyTrees with a custom reverse-mode derivative with
    respect to its first argument.

    ```python fragment
    @typedeqx.filter_custom_vjp
    def f(vjp_arg, *args, **kwargs):
        ...
        return out

    @f.def_fwd
    def f_fwd(perturbed, vjp_arg, *args, **kwargs):
        # perturbed: like vjp_arg, True at each leaf being differentiated
        return out, residuals

    @f.def_bwd
    def f_bwd(residuals, grad_out, perturbed, vjp_arg, *args, **kwargs):
        # grad_out: like out, None where there is no cotangent
        return grad_vjp_arg  # like vjp_arg; None means zero
    ```

    Only the first argument is differentiable; arrays elsewhere may not be
    differentiated (pack them into the first argument). Outputs and residuals may be
    any PyTrees.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn, updated=())
        self.fn_fwd: Callable[..., Any] | None = None
        self.fn_bwd: Callable[..., Any] | None = None
        self._custom: Any = None

    def def_fwd(self, fn_fwd: Callable[..., Any]) -> Callable[..., Any]:
        """Set the forward rule; returns it."""
        self.fn_fwd = fn_fwd
        self._define()
        return fn_fwd

    def def_bwd(self, fn_bwd: Callable[..., Any]) -> Callable[..., Any]:
        """Set the backward rule; returns it."""
        self.fn_bwd = fn_bwd
        self._define()
        return fn_bwd

    def defvjp(self, fn_fwd: Callable[..., Any], fn_bwd: Callable[..., Any]) -> None:
        """Deprecated (as in Equinox): set both rules in the older form,
        `fn_fwd(vjp_arg, *args, **kwargs) -> (out, residuals)` and
        `fn_bwd(residuals, grad_out, vjp_arg, *args, **kwargs)`, where `grad_out`
        has a zero array (not `None`) at each floating-point output. Prefer
        `def_fwd` and `def_bwd`, which get `perturbed` and symbolic zeros."""
        warnings.warn(
            "filter_custom_vjp.defvjp is deprecated: use `@f.def_fwd` and "
            "`@f.def_bwd`, whose rules take a `perturbed` argument and get `None` "
            "for symbolic-zero cotangents.",
            UserWarning,  # Equinox's category for this deprecation
            stacklevel=2,
        )

        def new_fwd(perturbed: Any, vjp_arg: Any, *args: Any, **kwargs: Any) -> Any:
            del perturbed
            out, residuals = fn_fwd(vjp_arg, *args, **kwargs)
            return out, (out, residuals)

        def new_bwd(
            saved: Any,
            grad_out: Any,
            perturbed: Any,
            vjp_arg: Any,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            del perturbed
            out, residuals = saved
            grad_out = jtu.tree_map(_zero_if_none, out, grad_out, is_leaf=_is_none)
            return fn_bwd(residuals, grad_out, vjp_arg, *args, **kwargs)

        self.def_fwd(new_fwd)
        self.def_bwd(new_bwd)

    def _define(self) -> None:
        if self.fn_fwd is None or self.fn_bwd is None:
            return
        fn, fn_fwd, fn_bwd, name = self.fn, self.fn_fwd, self.fn_bwd, fun_name(self.fn)

        def primal(call: _VjpCall, arrays: list[Any], rest_arrays: list[Any]) -> Any:
            vjp_arg, args, kwargs = call.arguments(arrays, rest_arrays)
            return _split_output(fn(vjp_arg, *args, **kwargs))

        def fwd(call: _VjpCall, arrays: list[Any], rest_arrays: list[Any]) -> Any:
            if any(p.perturbed for p in rest_arrays):
                raise RuleError(
                    f"filter_custom_vjp({name}) differentiates its first argument "
                    "only, but an array in the other arguments is being "
                    "differentiated. Move it into the first argument."
                )
            values, rest_values = _values(arrays), _values(rest_arrays)
            perturbed = call.vjp.rebuild_dynamic([p.perturbed for p in arrays])
            perturbed = jtu.tree_map(lambda p: p is True, perturbed, is_leaf=_is_none)
            vjp_arg, args, kwargs = call.arguments(values, rest_values)
            out, residuals = fn_fwd(perturbed, vjp_arg, *args, **kwargs)
            out_arrays, out_split = _split_output(out)
            res_arrays, res_split = split_tree(residuals)
            kept = Static((res_split, perturbed, out_split.value))
            return (out_arrays, out_split), (res_arrays, values, rest_values, kept)

        def bwd(call: _VjpCall, saved: Any, cotangents: Any) -> Any:
            res_arrays, values, rest_values, kept = saved
            res_split, perturbed, out_split = kept.value
            residuals = res_split.rebuild(res_arrays)
            out_cts, _ = cotangents
            grad_out = out_split.rebuild_dynamic(
                [None if isinstance(c, SymbolicZero) else c for c in out_cts]
            )
            vjp_arg, args, kwargs = call.arguments(values, rest_values)
            grads = fn_bwd(residuals, grad_out, perturbed, vjp_arg, *args, **kwargs)
            try:
                per_leaf = call.vjp.treedef.flatten_up_to(grads)
            except (ValueError, TypeError) as e:
                raise TransformError(
                    f"filter_custom_vjp({name}): the backward rule must return a "
                    "tree structured like the first argument (None for no "
                    f"gradient); it does not match: {e}"
                ) from None
            picked = [
                _as_cotangent(name, per_leaf[i], primal)
                for i, primal in zip(call.vjp.dynamic_indices, values, strict=True)
            ]
            cts = [g if i in call.diff else None for i, g in enumerate(picked)]
            return cts, [None] * len(rest_values)

        custom = jax.custom_vjp(primal, nondiff_argnums=(0,))
        custom.defvjp(fwd, bwd, symbolic_zeros=True)
        self._custom = custom

    def __call__(self, vjp_arg: Any, /, *args: Any, **kwargs: Any) -> Any:
        if self._custom is None:
            raise TransformError(
                f"filter_custom_vjp({fun_name(self.fn)}) needs both rules; define "
                "them with `@f.def_fwd` and `@f.def_bwd`."
            )
        call = _VjpCall(vjp_arg, (args, kwargs))
        out_arrays, out_split = self._custom(call, call.arrays, call.rest_arrays)
        return out_split.value.rebuild(out_arrays)


def _is_none(x: Any) -> bool:
    return x is None


def _zero_if_none(primal: Any, cotangent: Any) -> Any:
    if cotangent is None and is_inexact_array(primal):
        return jnp.zeros_like(primal)
    return cotangent


def _as_cotangent(name: str, g: Any, primal: Any) -> Any:
    """The backward rule's gradient `g` for the array `primal`, as an array.

    A Python number stands for a scalar array's gradient (Equinox accepts it; its
    `debug.backward_nan` test returns `jnp.nan`), and becomes an array of the
    primal's dtype. Anything else that is not an array is the rule's mistake.
    """
    if g is None or hasattr(g, "shape"):
        return g
    number = isinstance(g, (int, float, complex)) and not isinstance(g, bool)
    if number and np.shape(primal) == ():
        return jnp.asarray(g, dtype=primal.dtype)
    expected = "an array, a number (for a scalar array), or None"
    if np.shape(primal) != ():
        expected = "an array of the same shape, or None"
    raise TransformError(
        f"filter_custom_vjp({name}): the backward rule must return a tree structured "
        "like the first argument, with a gradient for each of its arrays; got "
        f"{describe_leaf(g)} where the gradient of an array of shape "
        f"{tuple(np.shape(primal))} and dtype {primal.dtype} belongs. Return "
        f"{expected}."
    )
