"""The fix finder (`_contracts/_fixes.py`): a suggested edit, applied to a value of
the received shape, passes the contract; and when no edit of the searched kinds
passes, nothing is suggested. Checked on random contracts and shapes against an
independent brute-force search that applies the edits to real arrays."""

from typing import Annotated, Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jaxtyping import Array, Bool, Float

from typedeqx._contracts import Rank, SameDtype
from typedeqx._contracts._bindings import Bindings, BoundBy
from typedeqx._contracts._fixes import find_fix
from typedeqx._contracts._plan import compile_hint

_NAMES = ("a", "b", "c")
_DTYPES = (jnp.float32, jnp.float16, jnp.bfloat16, jnp.int32, jnp.bool_)


@st.composite
def contracts(draw: Any) -> tuple[Any, Bindings]:
    """A random array contract (fixed and named axes, a dtype family, maybe a
    rank or dtype rule) and the bindings of the call so far."""
    axes = draw(
        st.lists(st.one_of(st.integers(1, 4), st.sampled_from(_NAMES)), max_size=3)
    )
    dims = " ".join(str(a) for a in axes)
    family = draw(st.sampled_from((Float, Bool)))
    hint: Any = family[Array, dims]
    b = Bindings()
    b.label = BoundBy("argument", "x")
    for name in _NAMES:
        if draw(st.booleans()):
            b.sizes[name] = draw(st.integers(1, 4))
            b.sources[name] = BoundBy("field", "w")
    weight = draw(st.sampled_from((jnp.float32, jnp.bfloat16)))
    b.arguments = {"weight": jnp.zeros((), weight), "rank": len(axes)}
    if family is Float and draw(st.booleans()):
        hint = Annotated[hint, SameDtype("weight")]
    if draw(st.booleans()):
        hint = Annotated[hint, Rank("rank", "as drawn")]
    return hint, b


shapes = st.lists(st.integers(1, 4), max_size=4).map(tuple)


def _keeps(node: Any, edit: Any, x: Any, b: Bindings, mapped: int = 0) -> bool:
    """Whether `edit(x)` keeps the contract (per example, under `mapped` vmaps);
    traced with `jax.eval_shape`, so nothing is computed or compiled."""
    results = []

    def check(v: Any) -> Any:
        results.append(node.check(v, b.copy()) is None)
        return v

    f = check
    for _ in range(mapped):
        f = jax.vmap(f)
    jax.eval_shape(lambda v: f(edit(v)), x)
    return results[0]


def _edits(x: Any) -> list[tuple[Any, int]]:
    """Every edit the finder may suggest, as a function on arrays, with the number
    of leading axes it leaves to `jax.vmap`."""
    shape = x.shape
    rank = len(shape)
    out: list[tuple[Any, int]] = [(lambda v: v, 0)]
    out += [(lambda v: v, k) for k in range(1, min(2, rank) + 1)]
    out += [
        (lambda v, i=i: jnp.squeeze(v, axis=i), 0) for i in range(rank) if shape[i] == 1
    ]
    units = tuple(i for i in range(1, rank) if shape[i] == 1)
    if rank >= 3 and len(units) >= 2 and shape[0] != 1:
        out.append((lambda v: jnp.squeeze(v, axis=units), 0))
    if rank >= 3:
        out.append((lambda v: jnp.moveaxis(v, -1, 0), 0))
        out.append((lambda v: jnp.moveaxis(v, 0, -1), 0))
    if rank == 2:
        out.append((lambda v: v.T, 0))
    if rank >= 2:
        out.append((lambda v: v.reshape(-1), 0))
    out += [(lambda v: v[None], 0), (lambda v: v[..., None], 0)]
    return out


def _casts(dtype: Any) -> list[Any]:
    casts: list[Any] = [lambda v: v]
    casts += [lambda v, d=d: v.astype(d) for d in _DTYPES if d != dtype]
    if dtype != jnp.bool_:
        casts.append(lambda v: v != 0)
    return casts


@given(contracts(), shapes, st.sampled_from(_DTYPES))
def test_a_suggested_edit_passes_and_none_is_suggested_when_none_passes(
    contract: tuple[Any, Bindings], shape: tuple[int, ...], dtype: Any
):
    hint, b = contract
    node = compile_hint(hint)
    x = jax.ShapeDtypeStruct(shape, dtype)
    fix = find_fix(node, x, b, "x")
    if _keeps(node, lambda v: v, x, b):
        assert fix is None
        return
    found_any = any(
        _keeps(node, lambda v, e=edit, c=cast: c(e(v)), x, b, mapped)
        for edit, mapped in _edits(x)
        for cast in _casts(dtype)
        if len(shape) >= mapped
    )
    if fix is None:
        assert not found_any, "an edit passes, but the finder said nothing"
        return

    def apply(v: Any) -> Any:
        return eval(fix.expression, {"jnp": jnp, "np": np, "x": v})

    assert _keeps(node, apply, x, b, fix.mapped), fix


@pytest.mark.parametrize(
    "shape, expression, mapped",
    [
        ((5, 3, 8, 8), "x", 1),
        ((8, 8, 3), "jnp.moveaxis(x, -1, 0)", 0),
        ((1, 3, 8, 8), "x[0]", 0),
    ],
)
def test_spatial_edits(shape: tuple[int, ...], expression: str, mapped: int):
    node = compile_hint(
        Annotated[Float[Array, " c *spatial"], Rank("n + 1", "c and n spatial axes")]
    )
    b = Bindings()
    b.sizes = {"c": 3, "n": 2}
    fix = find_fix(node, jnp.zeros(shape), b, "x")
    assert fix is not None
    assert (fix.expression, fix.mapped) == (expression, mapped)


def test_a_free_variadic_gets_no_rank_changing_edit():
    # `*spatial` takes any rank: flattening or adding an axis "passes" but means
    # nothing, so it is not suggested.
    node = compile_hint(Float[Array, "4 *spatial"])
    assert find_fix(node, jnp.zeros((6, 2)), Bindings(), "x") is None


def test_masks_get_both_readings():
    node = compile_hint(Bool[Array, "q k"] | None)
    b = Bindings()
    b.sizes = {"q": 3, "k": 5}
    fix = find_fix(node, jnp.zeros((5, 3)), b, "mask")
    assert fix is not None and fix.expression == "mask.T != 0" and fix.mask_note


def test_every_edit_kind_is_tried():
    # Sanity of the oracle: the brute-force edits reach the shapes the finder names.
    x = jax.ShapeDtypeStruct((2, 1, 1), jnp.float32)
    seen = {jax.eval_shape(e, x).shape for e, _ in _edits(x)}
    assert {(2,), (1, 2, 1, 1), (2, 1, 1, 1), (2, 1), (1, 2, 1)} <= seen
