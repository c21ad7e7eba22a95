"""Running a buggy user program the ways a user runs it (eagerly, under
`filter_jit`, under `filter_vmap` over a batch of two, inside `lax.scan` over two
steps) and returning the error it raises, for the diagnosis tests; and the user
models more than one of those tests runs."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

import typedeqx as eqx

MODES = ("eager", "jit", "vmap", "scan")


def _stack(value: Any) -> Any:
    return jax.tree_util.tree_map(
        lambda v: (
            jnp.stack([v, v]) if eqx.is_array_like(v) and hasattr(v, "shape") else v
        ),
        value,
    )


def run(mode: str, model: Callable[..., Any], *args: Any) -> Any:
    """`model(*args)` in `mode`; in `"vmap"` and `"scan"` mode each argument is
    stacked twice along a new leading axis, so each call sees `args` again."""
    if mode == "eager":
        return model(*args)
    if mode == "jit":
        return eqx.filter_jit(model)(*args)
    if mode == "vmap":
        return eqx.filter_vmap(model)(*_stack(args))
    if mode == "scan":

        def step(carry: None, xs: Any) -> tuple[None, Any]:
            return None, model(*xs)

        return lax.scan(step, None, _stack(args))[1]
    raise ValueError(mode)


def message(mode: str, error: type[BaseException], model: Any, *args: Any) -> str:
    """The text of the error `model(*args)` raises in `mode` (JAX's traceback
    note, added when an error crosses a transformation, left out)."""
    try:
        run(mode, model, *args)
    except error as e:
        return str(e).split("\n--------------------\n")[0]
    raise AssertionError(f"{mode}: no {error.__name__} raised")


# Recurrent models over a sequence, as a user writes them (a cell under lax.scan).
class GRU(eqx.Module):
    cell: eqx.nn.GRUCell

    def __init__(self, key: jax.Array) -> None:
        self.cell = eqx.nn.GRUCell(4, 8, key=key)

    def __call__(self, xs: Any, h: Any) -> Any:
        def step(h: Any, x: Any) -> tuple[Any, None]:
            return self.cell(x, h), None

        return lax.scan(step, h, xs)[0]


class LSTM(eqx.Module):
    cell: eqx.nn.LSTMCell

    def __init__(self, key: jax.Array) -> None:
        self.cell = eqx.nn.LSTMCell(4, 8, key=key)

    def __call__(self, xs: Any, h: Any, c: Any) -> Any:
        def step(hc: Any, x: Any) -> tuple[Any, None]:
            return self.cell(x, hc), None

        return lax.scan(step, (h, c), xs)[0]
