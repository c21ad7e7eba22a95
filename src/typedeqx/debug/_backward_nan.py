"""`backward_nan`: the identity, whose backward pass prints the cotangent and can
stop on a NaN."""

from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from .._filters import filter, is_array_like
from .._module import Module
from .._pretty import tree_pformat
from .._runtime_errors import error_if
from .._transform import filter_custom_vjp


def backward_nan(x: Any, name: str | None = None, terminate: bool = True) -> Any:
    """Find NaNs that only appear on the backward pass.

    **Arguments:**

    - `x`: any PyTree, passed through unchanged.
    - `name`: a label printed with the values, to tell call sites apart.
    - `terminate`: whether a NaN in the cotangent of `x` raises an error, through
        `typedeqx.error_if` (so `EQX_ON_ERROR` picks what the error does).

    **Returns:**

    `x`, unchanged. On the backward pass, the primal and cotangent of `x` are
    printed, in full.
    """
    return _identity(x, name, terminate)


@filter_custom_vjp
def _identity(x: Any, name: str | None, terminate: bool) -> Any:
    return x


@_identity.def_fwd
def _identity_fwd(perturbed: Any, x: Any, name: str | None, terminate: bool) -> Any:
    del perturbed
    # Through `backward_nan` again, so that higher derivatives are watched too.
    return backward_nan(x, name, terminate), None


class _Full(Module):
    """Prints a PyTree with its arrays' values (`jax.debug.print` formats it)."""

    tree: Any

    def __init__(self, tree: Any) -> None:
        self.tree = tree

    def __repr__(self) -> str:
        return tree_pformat(self.tree, short_arrays=False)


@_identity.def_bwd
def _identity_bwd(
    residuals: Any,
    grad_x: Any,
    perturbed: Any,
    x: Any,
    name: str | None,
    terminate: bool,
) -> Any:
    del residuals, perturbed
    fmt = "   primals={x}\ncotangents={grad_x}"
    if name is not None:
        fmt = f"{name}:\n{fmt}"
    jax.debug.print(fmt, x=_Full(x), grad_x=_Full(grad_x), ordered=True)
    leaves = jtu.tree_leaves(filter(grad_x, is_array_like))
    if terminate and leaves:
        has_nan = jnp.any(jnp.stack([jnp.isnan(leaf).any() for leaf in leaves]))
        grad_x = error_if(grad_x, has_nan, "Encountered NaN")
    return grad_x
