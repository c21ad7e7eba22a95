"""Mistakes caught while a Module is built: the checks and warnings Equinox has.

Each runs once per class (at creation) or once per assignment in `__init__`, so they
are cheap: a type lookup in the common case.
"""

import warnings
from typing import Any

import jax
import jax.tree_util as jtu

from .._filters import is_array, is_array_like


def _identity(x: Any) -> Any:
    return x


# The types JAX's transformations return; a field holding one hides its arrays.
_TRANSFORM_TYPES: frozenset[type] = frozenset(
    type(transform(_identity))
    for transform in (
        jax.jit,
        jax.grad,
        jax.vmap,
        jax.value_and_grad,
        jax.jacfwd,
        jax.jacrev,
        jax.hessian,
        jax.custom_jvp,
        jax.custom_vjp,
        jax.checkpoint,
        jax.pmap,
    )
)


def check_not_own_method(cls: type, name: str, owner: Any, value: Any) -> None:
    """Refuse `self.<name> = self.<method>`: the module would contain itself."""
    if getattr(value, "__self__", None) is not owner:
        return
    # A bound method that is a PyTree (a Module method) has the module as a child.
    children = jtu.tree_leaves(value, is_leaf=lambda node: node is owner)
    if any(child is owner for child in children):
        method = getattr(value.__func__, "__name__", "method")
        raise ValueError(
            f"Cannot assign methods in __init__: {cls.__name__}.{name} = "
            f"self.{method}. A bound method holds the module itself, so the module "
            "would be a PyTree that contains itself. Define a property instead "
            f"(`@property\\ndef {name}(self): return self.{method}`), or call "
            "the method where it is needed."
        )


def _holds_array_like(tree: Any) -> bool:
    return any(is_array_like(leaf) for leaf in jtu.tree_leaves(tree))


def warn_if_transformed(cls: type, name: str, value: Any) -> None:
    """Warn when a field gets a `jax.jit`/`jax.vmap`/... wrapper around arrays."""
    if type(value) not in _TRANSFORM_TYPES:
        return
    wrapped = value
    while (wrapped := getattr(wrapped, "__wrapped__", None)) is not None:
        if _holds_array_like(wrapped):
            warnings.warn(
                "Possibly assigning a JAX-transformed callable as an attribute on "
                f"{cls.__module__}.{cls.__qualname__}.{name}: it wraps arrays, and "
                "the result of `jax.jit`/`jax.vmap`/... is not a PyTree, so those "
                "arrays are hidden from transformations and never trained. Store "
                "the module "
                "and transform it when calling, or use `typedeqx.filter_jit` / "
                "`filter_vmap`, which return PyTrees.",
                UserWarning,
                stacklevel=4,
            )
            return


_SCALARS = frozenset({int, float, bool, str, type(None)})


def warn_static_arrays(cls: type, name: str, value: Any) -> None:
    """Warn when a static field holds an array anywhere inside it."""
    if type(value) in _SCALARS:
        return
    if any(is_array(leaf) for leaf in jtu.tree_leaves(value)):
        warnings.warn(
            "A JAX array is being set as static! "
            f"{cls.__name__}.{name} is a static field holding an array (JAX or "
            "NumPy); static fields are part of the tree structure and must be "
            "hashable configuration. Make it a normal field.",
            UserWarning,
            stacklevel=4,
        )


def warn_post_init_ignored(cls: type) -> None:
    """Warn when a class has both `__init__` and `__post_init__` (the latter only
    runs from a generated `__init__`)."""
    warnings.warn(
        f"Class `{cls.__module__}.{cls.__qualname__}` has both an `__init__` "
        "method and a `__post_init__` method, so the `__post_init__` method will "
        "not be run: a hand-written `__init__` replaces the generated one, which "
        "is what calls `__post_init__`. Call it from `__init__`, or use "
        "`__check_init__` for invariant checks (it always runs).",
        UserWarning,
        stacklevel=4,
    )
