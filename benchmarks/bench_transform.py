"""Cost of the filtered transformations, side by side with plain `jax.jit`.

Three comparisons, each printed as ratios:

1. `filter_jit` dispatch per call, on (a) `nn.MLP(32, 32, 64, depth=4)` and (b) an
   MLP with 258 arrays (`depth=128`). The floor is `jax.jit` over the flat list of
   the model's array leaves with the static part closed over (the "low-overhead
   training loop" of the Equinox docs). Target: <= 1.3x the floor. Variants:
   the same model every call (an inference loop), two models taking turns (so the
   model is flattened on every call), the jitted bound method, and Equinox's
   `filter_jit` on the Equinox MLP of the same shape.
2. A training step, `filter_value_and_grad` + an optax Adam update under
   `filter_jit`, in steady state, against the same step written with `jax.jit`
   over `partition`ed parameters. Target: within 2%.
3. Compile time (trace + lower + compile, first call) of a scan-over-layers model
   at depth 4 and 64, next to the same layers unrolled. Target: flat in depth.

CPU asynchronous dispatch is off and every call blocks on its output, so a time
is the whole round trip of one call.
"""

import time
from collections.abc import Callable
from typing import Any

import equinox
import jax
import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import optax
from _timing import interleaved, report

import typedeqx as eqx

jax.config.update("jax_cpu_enable_async_dispatch", False)


FLOOR = "floor: jax.jit(flat leaves, x)"
FLOOR_TURNS = "floor: jax.jit(flat leaves, x), 2 leaf lists in turn"
PLAIN = "jax.jit step over partitioned params"


def _floor(model: Any) -> tuple[Callable[..., Any], list[Any]]:
    """`jax.jit` over the flat array leaves, the static part closed over."""
    params, static = eqx.partition(model, eqx.is_array)
    leaves, treedef = jtu.tree_flatten(params)

    @jax.jit
    def call(leaves: list[Any], x: Any) -> Any:
        return eqx.combine(jtu.tree_unflatten(treedef, leaves), static)(x)

    return call, leaves


def _dispatch(depth: int, width: int, label: str) -> list[str]:
    key = jr.PRNGKey(0)
    model = eqx.nn.MLP(32, 32, width, depth, key=key)
    other = eqx.nn.MLP(32, 32, width, depth, key=jr.PRNGKey(1))
    theirs = equinox.nn.MLP(32, 32, width, depth, key=key)
    x = jnp.ones(32)
    floor, leaves = _floor(model)
    other_leaves = jtu.tree_leaves(eqx.filter(other, eqx.is_array))
    jitted = eqx.filter_jit(lambda m, x: m(x))
    alternating = eqx.filter_jit(lambda m, x: m(x))
    bound = eqx.filter_jit(model.__call__)
    theirs_jitted = equinox.filter_jit(lambda m, x: m(x))
    model_turns = [model, other]
    leaf_turns = [leaves, other_leaves]

    # A training loop passes a new model every call: two models taking turns
    # defeat filter_jit's repeated-call memo, against a floor whose flat leaves
    # also change every call.
    def models_in_turn() -> Any:
        model_turns.reverse()
        return alternating(model_turns[0], x).block_until_ready()

    def leaves_in_turn() -> Any:
        leaf_turns.reverse()
        return floor(leaf_turns[0], x).block_until_ready()

    times = interleaved(
        {
            FLOOR: lambda: floor(leaves, x).block_until_ready(),
            "filter_jit(f)(model, x)": lambda: jitted(model, x).block_until_ready(),
            "filter_jit(model.__call__)(x)": lambda: bound(x).block_until_ready(),
            "equinox.filter_jit(f)(model, x)": lambda: theirs_jitted(
                theirs, x
            ).block_until_ready(),
            FLOOR_TURNS: leaves_in_turn,
            "filter_jit(f)(model, x), 2 models in turn": models_in_turn,
        },
        number=100,
        repeat=21,
    )
    n = len(leaves)
    title = f"filter_jit dispatch, {label}: MLP depth={depth} ({n} arrays)"
    same = {k: v for k, v in times.items() if "in turn" not in k}
    turns = {k: v for k, v in times.items() if "in turn" in k}
    return [
        report(f"{title}, same model each call", same, FLOOR, "<= 1.3x floor"),
        report(f"{title}, new model each call", turns, FLOOR_TURNS, "<= 1.3x floor"),
    ]


def _loss(model: Any, x: Any, y: Any) -> Any:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def _training_step() -> str:
    model = eqx.nn.MLP(32, 32, 64, 4, key=jr.PRNGKey(0))
    x = jr.normal(jr.PRNGKey(1), (256, 32))
    y = jr.normal(jr.PRNGKey(2), (256, 32))
    optim = optax.adam(1e-3)

    @eqx.filter_jit
    def filtered_step(model: Any, opt_state: Any, x: Any, y: Any) -> Any:
        loss, grads = eqx.filter_value_and_grad(_loss)(model, x, y)
        params = eqx.filter(model, eqx.is_array)
        updates, opt_state = optim.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), opt_state, loss

    params, static = eqx.partition(model, eqx.is_array)

    @jax.jit
    def plain_step(params: Any, opt_state: Any, x: Any, y: Any) -> Any:
        loss_of = lambda p: _loss(eqx.combine(p, static), x, y)  # noqa: E731
        loss, grads = jax.value_and_grad(loss_of)(params)
        updates, opt_state = optim.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    filtered_state = [model, optim.init(params)]
    plain_state = [params, optim.init(params)]

    def run(step: Any, state: list[Any]) -> Callable[[], Any]:
        def one() -> Any:
            state[0], state[1], loss = step(state[0], state[1], x, y)
            return loss.block_until_ready()

        return one

    times = interleaved(
        {
            PLAIN: run(plain_step, plain_state),
            "filter_jit + filter_value_and_grad": run(filtered_step, filtered_state),
        },
        number=50,
        repeat=41,
    )
    return report(
        "training step, MLP(32, 32, 64, 4), batch 256, Adam (steady state)",
        times,
        PLAIN,
        "within 2%",
    )


class _Stack(eqx.Module):
    """`depth` MLP blocks with stacked parameters, applied with `lax.scan`."""

    blocks: eqx.nn.MLP

    def __init__(self, depth: int, key: Any) -> None:
        make = lambda k: eqx.nn.MLP(32, 32, 32, 1, key=k)  # noqa: E731
        self.blocks = eqx.filter_vmap(make)(jr.split(key, depth))

    def __call__(self, x: Any) -> Any:
        dynamic, static = eqx.partition(self.blocks, eqx.is_array)

        def body(h: Any, block: Any) -> Any:
            return eqx.combine(block, static)(h), None

        return lax.scan(body, x, dynamic)[0]


def _unrolled(depth: int, key: Any) -> Callable[[Any], Any]:
    blocks = [eqx.nn.MLP(32, 32, 32, 1, key=k) for k in jr.split(key, depth)]

    def call(blocks: Any, x: Any) -> Any:
        for block in blocks:
            x = block(x)
        return x

    return lambda x: eqx.filter_jit(call)(blocks, x)


def _first_call(fn: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def _compile_time() -> str:
    key, x = jr.PRNGKey(0), jnp.ones(32)
    times = {}
    for depth in (4, 64):
        jitted = eqx.filter_jit(lambda m, x: m(x))
        stack = _Stack(depth, key)
        times[f"scan-over-layers, depth {depth}"] = _first_call(jitted, stack, x)
    for depth in (4, 64):
        times[f"unrolled layers, depth {depth}"] = _first_call(_unrolled(depth, key), x)
    return report(
        "compile time (first call) of a stack of MLP blocks",
        times,
        "scan-over-layers, depth 4",
        "scan flat from depth 4 to 64",
    )


def run() -> list[str]:
    return [
        *_dispatch(4, 64, "(a)"),
        *_dispatch(128, 8, "(b)"),
        _training_step(),
        _compile_time(),
    ]
