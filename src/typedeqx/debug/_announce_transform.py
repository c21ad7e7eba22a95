"""`announce_transform`: the identity, as a primitive whose every rule (evaluation,
abstract evaluation, JVP, transposition, batching, lowering) announces itself."""

from collections.abc import Callable
from typing import Any

import jax.tree_util as jtu
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from .._filters import combine, is_array, partition


def announce_transform(
    x: Any,
    name: str | None = None,
    intermediates: bool = False,
    announce: Callable[[str], Any] = print,
) -> Any:
    """The identity on any PyTree, which announces each JAX transformation that
    reaches it, as a `:`-joined path such as `vmap:jvp_p:mlir`.

    ```python
    >>> import jax
    >>> import typedeqx as eqx
    >>> _ = jax.vmap(eqx.debug.announce_transform)(jax.numpy.ones(2))
    vmap:impl

    ```

    **Arguments:**

    - `x`: any PyTree, passed through unchanged (only its arrays are watched).
    - `name`: a label put before each announcement, as `(name) `.
    - `intermediates`: whether to announce transformations that are still being
        applied too (e.g. under `jit(vmap(...))`, `vmap` as well as
        `vmap:abstract` and `vmap:mlir`).
    - `announce`: what is called with each announcement; `print` by default.

    **Returns:**

    `x`, unchanged.
    """
    prefix = "" if name is None else f"({name}) "
    dynamic, static = partition(x, is_array)
    leaves, treedef = jtu.tree_flatten(dynamic)
    out = _bind(leaves, (), prefix, intermediates, announce)
    return combine(jtu.tree_unflatten(treedef, out), static)


def _bind(
    leaves: Any,
    stack: tuple[str, ...],
    prefix: str,
    intermediates: bool,
    announce: Callable[[str], Any],
) -> Any:
    return _announce_p.bind(
        *leaves,
        stack=stack,
        prefix=prefix,
        intermediates=intermediates,
        announce=announce,
    )


def _say(stack: tuple[str, ...], prefix: str, announce: Callable[[str], Any]) -> None:
    announce(prefix + ":".join(stack))


def _leaf_rule(step: str) -> Callable[..., Any]:
    """The rule for a step that ends the path (evaluating, or the abstract
    evaluation or lowering that `jit` does)."""

    def rule(
        *xs: Any, stack: Any, prefix: str, intermediates: Any, announce: Any
    ) -> Any:
        _say(stack + (step,), prefix, announce)
        return xs

    return rule


def _jvp(
    primals: Any,
    tangents: Any,
    *,
    stack: Any,
    prefix: str,
    intermediates: bool,
    announce: Any,
) -> Any:
    if intermediates:
        _say(stack + ("jvp",), prefix, announce)
    primals_out = _bind(primals, stack + ("jvp_p",), prefix, intermediates, announce)
    nonzero = [t for t in tangents if type(t) is not ad.Zero]
    out = iter(
        _bind(nonzero, stack + ("jvp_t",), prefix, intermediates, announce)
        if nonzero
        else []
    )
    tangents_out = [t if type(t) is ad.Zero else next(out) for t in tangents]
    return primals_out, tangents_out


def _transpose(
    cts: Any,
    *primals: Any,
    stack: Any,
    prefix: str,
    intermediates: bool,
    announce: Any,
) -> Any:
    stack = stack + ("transpose",)
    if intermediates:
        _say(stack, prefix, announce)
    nonzero = [c for c in cts if type(c) is not ad.Zero]
    out = iter(
        _bind(nonzero, stack, prefix, intermediates, announce) if nonzero else []
    )
    return [c if type(c) is ad.Zero else next(out) for c in cts]


def _batch(
    xs: Any,
    dims: Any,
    *,
    stack: Any,
    prefix: str,
    intermediates: bool,
    announce: Any,
) -> Any:
    stack = stack + ("vmap",)
    if intermediates:
        _say(stack, prefix, announce)
    return _bind(xs, stack, prefix, intermediates, announce), dims


_announce_p: Any = Primitive("typedeqx_announce_transform")
_announce_p.multiple_results = True
_announce_p.def_impl(_leaf_rule("impl"))
_announce_p.def_abstract_eval(_leaf_rule("abstract"))
ad.primitive_jvps[_announce_p] = _jvp
ad.primitive_transposes[_announce_p] = _transpose
batching.primitive_batchers[_announce_p] = _batch
mlir.register_lowering(
    _announce_p, mlir.lower_fun(_leaf_rule("mlir"), multiple_results=True)
)
