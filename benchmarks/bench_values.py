"""Value checks (`typedeqx.checks(values=True)`): what they cost on a training step.

The model and step are benchmarks/bench_transformer.py's (12 pre-norm blocks of
LayerNorm, 4-head attention with rotary embeddings, LayerNorm and MLP; SGD on a
squared loss over a batch of sequences), under `filter_jit`. Two comparisons:

1. steady-state training step, value checks on vs off (target: on <= 1.5x off).
2. the traced step (`jax.make_jaxpr`) with value checks off is the same program as
   without the value-checking machinery involved (default checks): identical
   jaxpr text, and how many equations turning value checks on adds.
"""

from collections.abc import Callable
from typing import Any

import jax
from _timing import interleaved, report
from bench_transformer import _data, _model, _step

import typedeqx


def _compiled(values: bool) -> Callable[[], Any]:
    model, x = _model(typedeqx), _data()
    step = typedeqx.filter_jit(_step(typedeqx))
    with typedeqx.checks(values=values):
        jax.block_until_ready(step(model, x))  # traced here, with this setting
    return lambda: jax.block_until_ready(step(model, x))


def _steady_state() -> str:
    times = interleaved(
        {"value checks off": _compiled(False), "value checks on": _compiled(True)},
        number=5,
        repeat=9,
    )
    return report(
        "steady-state training step, 12-block transformer, filter_jit",
        times,
        "value checks off",
        "value checks on <= 1.5x off",
    )


def _jaxpr(setting: dict[str, bool]) -> Any:
    model, x = _model(typedeqx), _data()
    params, static = typedeqx.partition(model, typedeqx.is_array)
    step = _step(typedeqx)

    def arrays_only(p: Any) -> Any:
        new_model, value = step(typedeqx.combine(p, static), x)
        return typedeqx.filter(new_model, typedeqx.is_array), value

    with typedeqx.checks(**setting):
        return jax.make_jaxpr(arrays_only)(params)


def _same_program() -> str:
    default = _jaxpr({})
    off = _jaxpr({"values": False})
    on = _jaxpr({"values": True})
    same = str(default) == str(off)
    return (
        "== training step jaxpr, value checks off vs default checks "
        "(target: identical)\n"
        f"   identical text: {same}; equations: default "
        f"{len(default.jaxpr.eqns)}, values off {len(off.jaxpr.eqns)}, values on "
        f"{len(on.jaxpr.eqns)} (top level)"
    )


def run() -> list[str]:
    return [_same_program(), _steady_state()]


if __name__ == "__main__":
    for text in run():
        print(text)
