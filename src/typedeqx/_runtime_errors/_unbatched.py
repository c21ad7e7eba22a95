"""Reductions that see through `vmap`: `any` and `max` over every element of every
batch, giving one unbatched scalar. `error_if` needs them so that a batched
predicate still makes one decision (and one `lax.cond`, not a `select`)."""

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.core import ShapedArray
from jax.extend.core import Primitive
from jax.interpreters import batching, mlir


def _make(name: str, reduce: Callable[[Any], Any], dtype: Any) -> Any:
    prim: Any = Primitive(name)
    prim.def_impl(reduce)

    def abstract_eval(x: Any) -> ShapedArray:
        return ShapedArray((), dtype if dtype is not None else x.dtype)

    def batch(args: Sequence[Any], dims: Sequence[Any]) -> tuple[Any, Any]:
        return prim.bind(args[0]), None

    prim.def_abstract_eval(abstract_eval)
    batching.primitive_batchers[prim] = batch
    mlir.register_lowering(prim, mlir.lower_fun(reduce, multiple_results=False))
    return prim


_any_p = _make("typedeqx_unbatched_any", jnp.any, jnp.bool_)
_max_p = _make("typedeqx_unbatched_max", jnp.max, None)


def unbatched_any(x: Any) -> jax.Array:
    """`jnp.any(x)`, ignoring any `vmap` batch dimensions."""
    out: jax.Array = _any_p.bind(jnp.asarray(x))
    return out


def unbatched_max(x: Any) -> jax.Array:
    """`jnp.max(x)`, ignoring any `vmap` batch dimensions."""
    out: jax.Array = _max_p.bind(jnp.asarray(x))
    return out
