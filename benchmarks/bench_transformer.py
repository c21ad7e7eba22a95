"""A 12-block transformer, typedeqx side by side with Equinox.

Each block is pre-norm: LayerNorm, 4-head MultiheadAttention with rotary embeddings
on the query and key heads (through `process_heads`), a residual; LayerNorm, MLP, a
residual. The same code builds both models, from `typedeqx.nn` or `equinox.nn`, with
the same keys, so they hold the same weights. Three comparisons, printed as ratios:

1. steady-state training step (SGD on a squared loss, batch of sequences) under
   `filter_jit` (target: typedeqx within 5% of Equinox).
2. tracing that step (`jax.make_jaxpr`, no compilation), checks on vs off (target:
   on <= 1.2x off).
3. tracing that step, typedeqx (checks on) vs Equinox (target: <= 1.0x).
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import equinox
import jax
import jax.numpy as jnp
import jax.random as jr
from _timing import interleaved, report

import typedeqx

BLOCKS, SEQ, WIDTH, HEADS, BATCH = 12, 32, 64, 4, 8


def _block_class(lib: ModuleType) -> type:
    class Block(lib.Module):
        norm1: Any
        attention: Any
        rope: Any
        norm2: Any
        mlp: Any

        def __init__(self, key: Any):
            akey, mkey = jr.split(key)
            self.norm1 = lib.nn.LayerNorm(WIDTH)
            self.attention = lib.nn.MultiheadAttention(HEADS, WIDTH, key=akey)
            self.rope = lib.nn.RotaryPositionalEmbedding(WIDTH // HEADS)
            self.norm2 = lib.nn.LayerNorm(WIDTH)
            self.mlp = lib.nn.MLP(WIDTH, WIDTH, 4 * WIDTH, 1, jax.nn.gelu, key=mkey)

        def _process_heads(self, q: Any, k: Any, v: Any) -> tuple[Any, Any, Any]:
            per_head = jax.vmap(self.rope, in_axes=1, out_axes=1)
            return per_head(q), per_head(k), v

        def __call__(self, x: Any) -> Any:
            y = jax.vmap(self.norm1)(x)
            x = x + self.attention(y, y, y, process_heads=self._process_heads)
            return x + jax.vmap(self.mlp)(jax.vmap(self.norm2)(x))

    return Block


def _model(lib: ModuleType) -> list[Any]:
    block = _block_class(lib)
    return [block(k) for k in jr.split(jr.PRNGKey(0), BLOCKS)]


def _step(lib: ModuleType) -> Callable[..., Any]:
    def loss(model: list[Any], x: Any) -> Any:
        def forward(seq: Any) -> Any:
            for block in model:
                seq = block(seq)
            return seq

        return jnp.mean(jax.vmap(forward)(x) ** 2)

    def step(model: list[Any], x: Any) -> Any:
        value, grads = lib.filter_value_and_grad(loss)(model, x)
        updates = jax.tree_util.tree_map(lambda g: -1e-3 * g, grads)
        return lib.apply_updates(model, updates), value

    return step


def _data() -> Any:
    return jr.normal(jr.PRNGKey(1), (BATCH, SEQ, WIDTH))


def _steady_state() -> str:
    x = _data()
    models = {"equinox": _model(equinox), "typedeqx": _model(typedeqx)}
    steps = {
        "equinox": equinox.filter_jit(_step(equinox)),
        "typedeqx": typedeqx.filter_jit(_step(typedeqx)),
    }

    def run(name: str) -> Callable[[], Any]:
        return lambda: jax.block_until_ready(steps[name](models[name], x))

    times = interleaved(
        {"Equinox": run("equinox"), "typedeqx (checks on)": run("typedeqx")},
        number=5,
        repeat=9,
    )
    return report(
        "steady-state training step, 12-block transformer, filter_jit",
        times,
        "Equinox",
        "typedeqx within 5% of Equinox",
    )


def _tracer(lib: ModuleType, enabled: bool = True) -> Callable[[], Any]:
    model, x = _model(lib), _data()
    params, static = lib.partition(model, lib.is_array)

    def trace() -> Any:
        # A new function each time, so nothing is cached between traces.
        step = _step(lib)

        def arrays_only(p: Any) -> Any:
            new_model, value = step(lib.combine(p, static), x)
            return lib.filter(new_model, lib.is_array), value

        with typedeqx.checks(enabled):
            return jax.make_jaxpr(arrays_only)(params)

    return trace


def _trace_on_off() -> str:
    times = interleaved(
        {
            "checks off": _tracer(typedeqx, enabled=False),
            "checks on": _tracer(typedeqx, enabled=True),
        },
        number=1,
        repeat=7,
    )
    return report(
        "trace the training step (make_jaxpr), 12-block transformer",
        times,
        "checks off",
        "checks on <= 1.2x checks off",
    )


def _trace_vs_equinox() -> str:
    times = interleaved(
        {"Equinox": _tracer(equinox), "typedeqx (checks on)": _tracer(typedeqx)},
        number=1,
        repeat=7,
    )
    return report(
        "trace the training step (make_jaxpr), 12-block transformer",
        times,
        "Equinox",
        "typedeqx <= 1.0x Equinox",
    )


def run() -> list[str]:
    benches = (_trace_on_off, _trace_vs_equinox, _steady_state)
    return [bench() for bench in benches]
