"""Backward checks: an identity with a custom VJP around the array arguments and
outputs of every checked call, whose backward rule checks the cotangent.

In backward order, the cotangent of a call's outputs arrives first and the
cotangents of its arguments leave last; the first non-finite one names either the
call whose backward made it (an argument's cotangent: "w.r.t. its argument x") or
the caller whose own code did (an output's cotangent that arrived non-finite).
Only traced values are watched: concrete arrays are never differentiated.
"""

from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jax.core import Tracer

from .._contracts import describe
from ._error import bad_elements, batch_and_step
from ._guard import guard, nonfinite
from ._sites import Site


def _output(name: str) -> str:
    return f"the output {name}" if name else "the output"


def _message(kind: str, site: Site, caller: Site | None, name: str, x: Any) -> Any:
    text, size = describe(x), int(x.size)

    def render(count: int, batch: Any, step: Any) -> tuple[str, str]:
        bad = bad_elements(count, size, text)
        where = site.call()
        if kind == "output" and caller is not None:
            where = caller.call()  # the message names the caller's own code
        if kind == "argument":
            head = (
                f"The gradient first became non-finite in `{where}`, w.r.t. its "
                f"argument {name} (backward pass): {bad} in the cotangent. The "
                "gradient reaching its output was finite."
            )
        elif caller is None:
            head = (
                f"The gradient w.r.t. {_output(name)} of `{where}` was already "
                f"non-finite when it reached the model (backward pass): {bad} in "
                "the cotangent. It came from the code that uses the model's "
                "output (the loss)."
            )
        else:
            head = (
                f"The gradient first became non-finite in `{where}`'s own "
                f"code (backward pass), w.r.t. {_output(name)} of its call to "
                f"`{site.call()}`: {bad} in the cotangent."
            )
        return head + batch_and_step(batch, step), where

    return render


def watch(
    tree: Any,
    labels: list[str | None],
    site: Site,
    kind: str,
    caller: Site | None,
    tie: bool = False,
) -> Any:
    """`tree` unchanged, with its traced inexact leaves (those with a label; one
    label per leaf of `tree`) watched in the backward pass. With `tie`, the
    backward check also takes an element of the first leaf as computed in the
    forward pass, so the forward checks attached to it are not removed as dead
    code under `grad` and run before the backward pass."""
    leaves, treedef = jtu.tree_flatten(tree)
    picks = [
        i
        for i, (x, label) in enumerate(zip(leaves, labels))
        if label is not None and isinstance(x, Tracer)
    ]
    if not picks:
        return tree
    site.root.anchor()  # while the forward call is on the Python stack
    renders = [_message(kind, site, caller, labels[i] or "", leaves[i]) for i in picks]

    def render(index: int, count: int, batch: Any, step: Any, _: Any) -> Any:
        if index == len(renders):  # the forward output (see `backward`)
            where = site.call()
            text = f"The output of `{where}` was non-finite in the forward pass."
            return text + batch_and_step(batch, step), where
        return renders[index](count, batch, step)

    loop = site.root.loop
    steps = None if loop is None else loop[0]

    @jax.custom_vjp
    def identity(xs: list[Any], tick: Any) -> list[Any]:
        return xs

    def forward(xs: list[Any], tick: Any) -> tuple[list[Any], Any]:
        return xs, ((jnp.ravel(xs[0])[:1] if tie else None), tick)

    def backward(residual: Any, cotangents: list[Any]) -> tuple[list[Any], None]:
        token, tick = residual
        counts = [nonfinite(g) for g in cotangents]
        if token is not None:
            # In the predicate, not only in the failure branch: XLA would sink
            # the forward check into a branch that runs only on failure.
            counts.append(nonfinite(token))
        at = None if steps is None else (steps, tick)
        return guard(cotangents, counts, render, loop=at), None

    identity.defvjp(forward, backward)
    tick = jnp.zeros((), jnp.int32) if loop is None else loop[1]
    watched = identity([leaves[i] for i in picks], tick)
    for i, x in zip(picks, watched):
        leaves[i] = x
    return jtu.tree_unflatten(treedef, leaves)
