"""Cost of shape contracts (`@typedeqx.checked`), side by side with unchecked layers.

Four comparisons, each printed as ratios:

1. eager call of `nn.Linear(32, 32)`: checks on vs Equinox's Linear, the same layer
   without `@checked`, and checks off (target: checks on <= 1.5x unchecked; checks
   off within 5% of no decorator). A hand-written jaxtyping + beartype wrapper
   around Equinox's Linear is shown for reference.
2. constructing `nn.Linear(32, 32)` (target: <= 1.5x unchecked).
3. trace + compile of a 12-layer MLP under `jax.jit` (target: on <= 1.2x off).
4. steady-state jitted training step of that MLP (target: on within 2% of off).

A fifth block isolates the per-call cost of the check itself: the same fields and
annotations as `nn.Linear` with a body that does no JAX work.
"""

import contextvars
from collections.abc import Callable
from typing import Any

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
from _timing import interleaved, report
from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

import typedeqx
from typedeqx._contracts._switch import _ENABLED


class PlainLinear(typedeqx.Module):
    """`typedeqx.nn.Linear` without `@checked`: same fields, `__init__`, `__call__`."""

    weight: Any
    bias: Any
    in_features: Any = typedeqx.field(static=True)
    out_features: Any = typedeqx.field(static=True)
    use_bias: bool = typedeqx.field(static=True)

    __init__ = typedeqx.nn.Linear.__init__
    # The function `@checked` wraps (a method is a plain function in the class
    # `__dict__` now; older versions held a descriptor with `__func__`).
    __call__ = getattr(
        typedeqx.nn.Linear.__dict__["__call__"],
        "__func__",
        typedeqx.nn.Linear.__dict__["__call__"],
    ).__wrapped__


def _no_work(self: Any, x: Any, *, key: Any = None) -> Any:
    return self.bias


class TrivialLinear(typedeqx.nn.Linear):
    """Checked (as a subclass of nn.Linear), with a body that does no work."""

    def __call__(
        self, x: Float[Array, " in_features"] | Float[Array, ""], *, key: Any = None
    ) -> Float[Array, " out_features"] | Float[Array, ""]:
        return self.bias


class PlainTrivialLinear(PlainLinear):
    __call__ = _no_work


def _in_context(enabled: bool) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    context = contextvars.copy_context()
    context.run(_ENABLED.set, enabled)
    return lambda fn: lambda: context.run(fn)


ON, OFF = _in_context(True), _in_context(False)


def _eager_call() -> str:
    key = jr.PRNGKey(0)
    x = jnp.ones(32)
    ours = typedeqx.nn.Linear(32, 32, key=key)
    plain = PlainLinear(32, 32, key=key)
    theirs = equinox.nn.Linear(32, 32, key=key)

    @jaxtyped(typechecker=beartype)
    def jaxtyping_linear(
        weight: Float[Array, "o i"], bias: Float[Array, " o"], x: Float[Array, " i"]
    ) -> Float[Array, " o"]:
        return theirs(x)

    times = interleaved(
        {
            "equinox.nn.Linear": ON(lambda: theirs(x).block_until_ready()),
            "typedeqx Linear without @checked": ON(
                lambda: plain(x).block_until_ready()
            ),
            "typedeqx Linear, checks off": OFF(lambda: ours(x).block_until_ready()),
            "typedeqx Linear, checks on": ON(lambda: ours(x).block_until_ready()),
            "jaxtyping+beartype around equinox Linear": ON(
                lambda: jaxtyping_linear(
                    theirs.weight, theirs.bias, x
                ).block_until_ready()
            ),
        },
        number=300,
        repeat=15,
    )
    return report(
        "eager call, Linear(32, 32)",
        times,
        "equinox.nn.Linear",
        "checks on <= 1.5x unchecked; checks off within 5% of no @checked",
    )


def _construct() -> str:
    key = jr.PRNGKey(0)
    times = interleaved(
        {
            "equinox.nn.Linear": ON(lambda: equinox.nn.Linear(32, 32, key=key)),
            "typedeqx Linear without @checked": ON(
                lambda: PlainLinear(32, 32, key=key)
            ),
            "typedeqx Linear, checks off": OFF(
                lambda: typedeqx.nn.Linear(32, 32, key=key)
            ),
            "typedeqx Linear, checks on": ON(
                lambda: typedeqx.nn.Linear(32, 32, key=key)
            ),
        },
        number=50,
        repeat=15,
    )
    return report(
        "construct Linear(32, 32)",
        times,
        "typedeqx Linear without @checked",
        "checks on <= 1.5x unchecked",
    )


def _model() -> tuple[Any, Any, Array, Array]:
    model = typedeqx.nn.MLP(32, 32, 32, depth=11, key=jr.PRNGKey(1))
    params, static = typedeqx.partition(model, typedeqx.is_array)
    return params, static, jnp.ones((64, 32)), jnp.zeros((64, 32))


def _make_step(static: Any) -> Callable[..., Any]:
    """A fresh training step (SGD on mean squared error) for the array part."""

    def loss(params: Any, x: Array, y: Array) -> Array:
        model = typedeqx.combine(params, static)
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    def step(params: Any, x: Array, y: Array) -> Any:
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads), value

    return step


def _trace_compile() -> str:
    params, static, x, y = _model()

    def compile_fresh() -> None:
        # A new function object each time, so jit traces and compiles again.
        jax.jit(_make_step(static)).lower(params, x, y).compile()

    times = interleaved(
        {"checks off": OFF(compile_fresh), "checks on": ON(compile_fresh)},
        number=1,
        repeat=9,
    )
    return report(
        "trace + compile, 12-layer MLP training step",
        times,
        "checks off",
        "checks on <= 1.2x checks off",
    )


def _steady_state() -> str:
    params, static, x, y = _model()
    step_off = jax.jit(_make_step(static))
    step_on = jax.jit(_make_step(static))
    OFF(lambda: step_off(params, x, y))()
    ON(lambda: step_on(params, x, y))()

    def run(step: Callable[..., Any]) -> Callable[[], Any]:
        return lambda: jax.block_until_ready(step(params, x, y))

    times = interleaved(
        {"checks off": OFF(run(step_off)), "checks on": ON(run(step_on))},
        number=100,
        repeat=15,
    )
    return report(
        "steady-state jitted training step, 12-layer MLP",
        times,
        "checks off",
        "checks on within 2% of checks off",
    )


def _overhead() -> str:
    key = jr.PRNGKey(0)
    x = jnp.ones(32)
    ours = TrivialLinear(32, 32, key=key)
    plain = PlainTrivialLinear(32, 32, key=key)
    times = interleaved(
        {
            "no @checked": ON(lambda: plain(x)),
            "checks off": OFF(lambda: ours(x)),
            "checks on": ON(lambda: ours(x)),
        },
        number=5000,
        repeat=15,
    )
    return report(
        "per-call cost of the check (Linear's contract, body without JAX work)",
        times,
        "no @checked",
        "informational: the absolute cost in us",
    )


def run() -> list[str]:
    benches = (_eager_call, _construct, _trace_compile, _steady_state, _overhead)
    return [bench() for bench in benches]
