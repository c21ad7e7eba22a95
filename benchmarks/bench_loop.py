"""`filter_jit` in a training loop, where each step gets the model and optimiser
state the previous step returned: `model, opt_state, loss = step(model, opt_state,
x, y)`.

The floor is the "low-overhead training loop" trick: `jax.jit` over the flat array
leaves in and the flat array leaves out, the tree structure closed over, so that
the loop never flattens or rebuilds a tree (it is unflattened once, after the
loop). Against it: Equinox's `filter_jit` and typedeqx's, each on its own
library's `nn.MLP` of the same shape, with an optax Adam update. Target: typedeqx
within 1.1x of the floor.

Every variant runs in the same process, interleaved, twice: with JAX's CPU
asynchronous dispatch off (each step's time is the whole round trip) and on (the
loop queues work and Python overlaps computation; each sample runs `STEPS` steps
and then blocks on the last loss).
"""

from collections.abc import Callable
from typing import Any

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import optax
from _timing import interleaved, report

import typedeqx as eqx

FLOOR = "floor: jax.jit(flat leaves) -> flat leaves"
REBUILT = "floor, then tree_unflatten of its output"
THEIRS = "equinox.filter_jit step"
OURS = "typedeqx.filter_jit step"
STEPS = 10
_ASYNC_FLAG = "jax_cpu_enable_async_dispatch"


def _loss(model: Any, x: Any, y: Any) -> Any:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def _filtered_step(lib: Any, optim: Any) -> Callable[..., Any]:
    @lib.filter_jit
    def step(model: Any, opt_state: Any, x: Any, y: Any) -> Any:
        loss, grads = lib.filter_value_and_grad(_loss)(model, x, y)
        params = lib.filter(model, lib.is_array)
        updates, opt_state = optim.update(grads, opt_state, params)
        return lib.apply_updates(model, updates), opt_state, loss

    return step


def _floor_step(model: Any, optim: Any) -> tuple[Callable[..., Any], list[Any], Any]:
    """`jax.jit` from flat leaves to flat leaves; structure and statics closed
    over. Also returns the leaves and the tree structure of `(params, opt_state)`."""
    params, static = eqx.partition(model, eqx.is_array)
    state = (params, optim.init(params))
    leaves, treedef = jtu.tree_flatten(state)

    @jax.jit
    def step(leaves: list[Any], x: Any, y: Any) -> tuple[list[Any], Any]:
        params, opt_state = jtu.tree_unflatten(treedef, leaves)
        loss_of = lambda p: _loss(eqx.combine(p, static), x, y)  # noqa: E731
        loss, grads = jax.value_and_grad(loss_of)(params)
        updates, opt_state = optim.update(grads, opt_state, params)
        new = (optax.apply_updates(params, updates), opt_state)
        return jtu.tree_leaves(new), loss

    return step, leaves, treedef


def _variants(depth: int, width: int) -> dict[str, Callable[[], Any]]:
    key = jr.PRNGKey(0)
    x = jr.normal(jr.PRNGKey(1), (8, 32))
    y = jr.normal(jr.PRNGKey(2), (8, 32))
    optim = optax.adam(1e-3)
    ours_model = eqx.nn.MLP(32, 32, width, depth, key=key)
    theirs_model = equinox.nn.MLP(32, 32, width, depth, key=key)
    floor, floor_leaves, treedef = _floor_step(ours_model, optim)
    ours = _filtered_step(eqx, optim)
    theirs = _filtered_step(equinox, optim)
    floor_state: list[Any] = [floor_leaves]
    rebuilt_state: list[Any] = [floor_leaves, None]
    ours_state: list[Any] = [
        ours_model,
        optim.init(eqx.filter(ours_model, eqx.is_array)),
    ]
    theirs_state: list[Any] = [
        theirs_model,
        optim.init(equinox.filter(theirs_model, equinox.is_array)),
    ]

    def run_floor() -> Any:
        loss = None
        for _ in range(STEPS):
            floor_state[0], loss = floor(floor_state[0], x, y)
        return jax.block_until_ready(loss)

    def run_rebuilt() -> Any:
        loss = None
        for _ in range(STEPS):
            rebuilt_state[0], loss = floor(rebuilt_state[0], x, y)
            rebuilt_state[1] = jtu.tree_unflatten(treedef, rebuilt_state[0])
        return jax.block_until_ready(loss)

    def run_filtered(step: Any, state: list[Any]) -> Callable[[], Any]:
        def run() -> Any:
            model, opt_state = state
            loss = None
            for _ in range(STEPS):
                model, opt_state, loss = step(model, opt_state, x, y)
            state[:] = model, opt_state
            return jax.block_until_ready(loss)

        return run

    return {
        FLOOR: run_floor,
        REBUILT: run_rebuilt,
        THEIRS: run_filtered(theirs, theirs_state),
        OURS: run_filtered(ours, ours_state),
    }


def _table(depth: int, width: int, asynchronous: bool) -> str:
    jax.config.update(_ASYNC_FLAG, asynchronous)
    variants = _variants(depth, width)
    times = interleaved(variants, number=3 if depth > 8 else 20, repeat=11)
    per_step = {name: t / STEPS for name, t in times.items()}
    mode = "on" if asynchronous else "off"
    title = (
        f"training step, MLP(32, 32, {width}, depth={depth}), Adam, batch 8, "
        f"async dispatch {mode}"
    )
    lines = [report(title, per_step, FLOOR, "typedeqx <= 1.1x floor")]
    lines.append(f"   typedeqx / equinox: {per_step[OURS] / per_step[THEIRS]:6.3f}x")
    return "\n".join(lines)


def run() -> list[str]:
    before = bool(jax.config.values[_ASYNC_FLAG])
    try:
        return [
            _table(depth, 32, asynchronous)
            for asynchronous in (False, True)
            for depth in (2, 32)
        ]
    finally:
        jax.config.update(_ASYNC_FLAG, before)
