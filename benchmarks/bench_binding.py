"""The cost of binding methods as PyTrees (issue 22).

Methods are plain functions in the class `__dict__`, and `Module.__getattribute__`
turns the bound method into a `BoundMethod`, as Equinox does. Each row times the
same work on `nn.Linear` ("binding") and on a subclass that restores
`object.__getattribute__` ("no hook"; the same checked `__call__` and fields),
interleaved in one process; Equinox's Linear is shown beside them. Targets: eager
calls and `filter_jit` dispatch within 5% of "no hook"; a field read no slower than
Equinox's.

Since fields are guarded by data descriptors (`_module/_guard.py`),
`object.__getattribute__` reaches a field through the guard's `__get__`, a Python
frame, so the "no hook" field read (0.07 us before the guards, 0.21 us after) is no
longer the floor of a field read; typedeqx's own read (0.17 us before, 0.16 us
after) answers from the instance `__dict__` first and never reaches the guard.
"""

import equinox
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from _timing import interleaved, report

import typedeqx


class _NoHook(typedeqx.nn.Linear):
    __getattribute__ = object.__getattribute__


def run() -> list[str]:
    key = jax.random.PRNGKey(0)
    x = jnp.ones(4)
    ours = typedeqx.nn.Linear(4, 4, key=key)
    bare = _NoHook(4, 4, key=key)
    theirs = equinox.nn.Linear(4, 4, key=key)
    jitted = typedeqx.filter_jit(lambda m, x: m(x))
    rows = (
        ("field read", lambda m: m.weight, 20000, "<= equinox"),
        (
            "eager Linear(4, 4) call",
            lambda m: m(x).block_until_ready(),
            300,
            "<= 1.05x",
        ),
        (
            "filter_jit dispatch, Linear(4, 4)",
            lambda m: jitted(m, x).block_until_ready(),
            300,
            "<= 1.05x",
        ),
        ("tree_flatten", jtu.tree_flatten, 5000, "<= 1.05x"),
    )
    blocks = []
    for title, fn, number, target in rows:
        variants = {
            "binding": lambda fn=fn: fn(ours),
            "no hook": lambda fn=fn: fn(bare),
        }
        if title == "field read":
            variants["equinox"] = lambda fn=fn: fn(theirs)
        times = interleaved(variants, number=number)
        blocks.append(report(title, times, "no hook", target))
    return blocks
