"""Whole-model updates: adding parameter updates, and toggling inference mode."""

from typing import Any

import jax.tree_util as jtu

from ._errors import TreeError
from ._tree import tree_at


def _is_none(x: Any) -> bool:
    return x is None


def _apply_update(update: Any, subtree: Any) -> Any:
    return subtree if update is None else subtree + update


def apply_updates(model: Any, updates: Any) -> Any:
    """Add `updates` to `model`, leaf by leaf, skipping `None` updates.

    A `jax.tree_util.tree_map`-broadcast version of
    `model if update is None else model + update`; like `optax.apply_updates`, but
    a `None` in `updates` leaves the whole matching subtree of `model` unchanged
    (as `filter_grad` produces for non-array leaves).

    **Arguments:**

    - `model`: any PyTree.
    - `updates`: a PyTree prefix of `model`; each leaf is `None` or has the shape
        and dtype of the `model` leaf it is added to.

    **Returns:**

    A PyTree like `model`, with the updates added.
    """
    update_leaves, structure = jtu.tree_flatten(updates, is_leaf=_is_none)
    treedef: Any = structure  # jaxlib's PyTreeDef methods are untyped
    try:
        subtrees = treedef.flatten_up_to(model)
    except ValueError as e:
        raise TreeError(
            "apply_updates needs `updates` to be a PyTree prefix of `model` (such as "
            f"the gradients of `model`); their structures differ: {e}"
        ) from None
    new = [_apply_update(u, s) for u, s in zip(update_leaves, subtrees, strict=True)]
    return jtu.tree_unflatten(treedef, new)


def _has_inference(x: Any) -> bool:
    return hasattr(x, "inference")


def _inference_flags(pytree: Any) -> tuple[Any, ...]:
    nodes = jtu.tree_leaves(pytree, is_leaf=_has_inference)
    return tuple(x.inference for x in nodes if _has_inference(x))


def tree_inference(pytree: Any, value: bool) -> Any:
    """Set every `inference` attribute in `pytree` to `value`.

    Layers such as `nn.Dropout` behave differently in inference mode; this switches
    a whole model at once. Equivalent to `tree_at` selecting the `inference` field of
    every node that has one (not looking inside such nodes).

    **Arguments:**

    - `pytree`: the PyTree to modify.
    - `value`: what to set every `inference` attribute to.

    **Returns:**

    A copy of `pytree` with all `inference` flags set to `value`.
    """
    return tree_at(_inference_flags, pytree, replace_fn=lambda _: value)
