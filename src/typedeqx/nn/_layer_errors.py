"""Errors a layer raises at run time, named by the layer's full path in the model.

Each is also the built-in type Equinox raises for the same mistake, so code that
catches Equinox's errors still catches these. Built on the error path only.
"""

import sys
from collections.abc import Hashable, Sequence
from types import FrameType
from typing import Any

from .._contracts import locate_module, module_location
from ._stateful import State


class MissingKeyError(RuntimeError):
    """A layer that draws random numbers (`Dropout`, attention dropout) was called
    in training mode without a `key`. (A `RuntimeError`, as in Equinox.)"""


class UnboundAxisError(NameError):
    """A layer that reduces over a named batch axis (`BatchNorm`) was called where
    no `vmap` or `pmap` binds that name. (A `NameError`, as in Equinox.)"""


def where(layer: Any) -> tuple[str, Any]:
    """`("Net.drop (Dropout.__call__)", net)`: where `layer` sits in the model being
    called (through wrappers and scanned stacks, as a contract error names it), and
    that model (`layer` itself when no enclosing module holds it)."""
    _, root = locate_module(layer)
    return module_location(layer), root


def missing_key(layer: Any) -> MissingKeyError:
    """The error for `layer` called in training mode without a key."""
    text, _ = where(layer)
    return MissingKeyError(
        f"{text}: Dropout requires a key when running in non-deterministic mode: "
        "key is None and inference is False, and dropout draws a random mask.\n"
        "  hint: pass one, e.g. `model(x, key=jax.random.key(0))` (split a fresh key "
        "for each step), or switch dropout off for evaluation with "
        "`model = eqx.nn.inference_mode(model)`."
    )


def _quoted(name: Hashable) -> str:
    return f'"{name}"' if isinstance(name, str) and '"' not in name else repr(name)


def _frame_of(root: Any) -> FrameType | None:
    # The frame of the outermost call of `root` (skipping wrappers that take only
    # `*args`): its arguments say how it was called.
    frame: FrameType | None = sys._getframe(1)
    found = None
    while frame is not None:
        code = frame.f_code
        if (
            frame.f_locals.get("self") is root
            and code.co_name == "__call__"
            and code.co_argcount > 1
        ):
            found = frame
        frame = frame.f_back
    return found


def _call_form(root: Any, axis: str) -> str:
    general = (
        f"`jax.vmap(model, axis_name={axis}, ...)`, with in_axes None for the State "
        "and out_axes None for the State it returns"
    )
    frame = _frame_of(root)
    if frame is None:
        return general
    names = frame.f_code.co_varnames[1 : frame.f_code.co_argcount]
    values = [frame.f_locals.get(n) for n in names]
    # Only the usual `(x, state)` signature gets the in_axes spelt out.
    if len(names) != 2 or not hasattr(values[0], "shape"):
        return general
    if not isinstance(values[1], State):
        return general
    return (
        f"`jax.vmap(model, axis_name={axis}, in_axes=(0, None), "
        f"out_axes=(0, None))({names[0]}, {names[1]})`"
    )


def unbound_axis(
    layer: Any, axis_name: Hashable | Sequence[Hashable]
) -> UnboundAxisError:
    """The error for `layer` called where its batch axis `axis_name` is unbound."""
    text, root = where(layer)
    name = type(layer).__name__
    callee = f"the {type(root).__name__}"
    if isinstance(axis_name, (list, tuple)):
        names = ", ".join(_quoted(n) for n in axis_name)
        message = (
            f"{text}: the batch axes {names} are not all bound: {name} averages its "
            f"statistics over the axes named by its axis_name, and the enclosing "
            "vmaps and pmaps do not name each of them.\n"
            f"  hint: call {callee} under one vmap or pmap per name, each with "
            "axis_name= one of them and in_axes None for the State"
        )
    else:
        axis = _quoted(axis_name)
        message = (
            f"{text}: the batch axis {axis} is not bound: {name} averages its "
            f"statistics over the batch axis named by its axis_name={axis}, and no "
            "enclosing jax.vmap or jax.pmap has that axis_name.\n"
            f"  hint: call {callee} under a vmap that names the axis: "
            f"{_call_form(root, axis)}"
        )
    return UnboundAxisError(
        message + "; or, for evaluation, use the running statistics, which need no "
        "batch axis: `model = eqx.nn.inference_mode(model)`."
    )
