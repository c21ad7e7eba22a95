"""Profiler names: each layer's `__call__` runs in `jax.named_scope("eqx.nn.Name")`,
the scope Equinox 0.13.8 gives the same layer, so profiles and HLO dumps of a
typedeqx model read like those of the Equinox model.

The scoped layers are listed once, below, and `install` wraps them when `nn` is
imported. The scope sits inside the contract check (which stays the outermost
wrapper); under `jit` it costs nothing after tracing.
"""

import functools
from collections.abc import Callable
from typing import Any

import jax

# The layers whose `__call__` Equinox 0.13.8 wraps in a named scope (not `Lambda`,
# `Shared`, `StatefulLayer` or the `Conv1d`-style fixed-dimension forms, which
# inherit their base's scope).
SCOPED = (
    "AdaptivePool", "AvgPool1d", "AvgPool2d", "AvgPool3d", "BatchNorm", "Conv",
    "ConvTranspose", "Dropout", "Embedding", "GRUCell", "GroupNorm", "Identity",
    "LayerNorm", "LSTMCell", "Linear", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MLP",
    "MultiheadAttention", "Pool", "PReLU", "RMSNorm", "RotaryPositionalEmbedding",
    "Sequential", "SpectralNorm", "WeightNorm",
)  # fmt: skip


def _scoped(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with jax.named_scope(name):
            return func(self, *args, **kwargs)

    return call


def _install_one(cls: type) -> None:
    name = f"eqx.nn.{cls.__name__}"
    own = cls.__dict__.get("__call__")
    if own is None:
        # Equinox's `MaxPool2d.__call__` only calls `Pool.__call__` inside its own
        # scope; the inherited (checked) method does the same here.
        inherited: Any = cls.__call__
        setattr(cls, "__call__", _scoped(inherited, name))
        return
    raw = getattr(own, "__wrapped__", None)
    hook = getattr(cls, "__typedeqx_class_hook__", None)
    if raw is None or hook is None or not getattr(own, "__typedeqx_checked__", False):
        setattr(cls, "__call__", _scoped(own, name))
        return
    # Put the scope inside the check: rewrap the plain method, then let the class
    # hook of `@checked` wrap it with the contract again.
    scoped = _scoped(raw, name)
    for attribute in ("__typedeqx_checked__", "__typedeqx_plan__"):
        scoped.__dict__.pop(attribute, None)
    setattr(cls, "__call__", scoped)
    hook(cls)


def install(namespace: dict[str, Any]) -> None:
    """Wrap the `__call__` of each class named in `SCOPED` found in `namespace`."""
    classes = [namespace[name] for name in SCOPED]
    # Own methods first: an inherited one (`MaxPool2d`'s) must call the scoped base.
    for cls in sorted(classes, key=lambda c: "__call__" not in c.__dict__):
        _install_one(cls)
