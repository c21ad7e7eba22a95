"""Diagnoses of attention-mask mistakes in a small model: a mask the wrong way
round, a batch of masks without `vmap`, and float masks of both kinds (0/1 and
additive 0/-inf), which Equinox would accept and misread. Whole messages, every
mode."""

import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx
from diagnose import MODES, message


class Cross(eqx.Module):
    attn: eqx.nn.MultiheadAttention

    def __init__(self, key):
        self.attn = eqx.nn.MultiheadAttention(2, 16, key=key)

    def __call__(self, q, kv, mask):
        return self.attn(q, kv, kv, mask=mask)


_WHERE = "Cross.attn (MultiheadAttention.__call__): argument mask is "
_EXPECTED = (
    'expected Bool[Array, "q_seq kv_seq"] | Bool[Array, "num_heads q_seq kv_seq"] | '
    "None"
)


def _run(mode, mask, q=3, kv=5):
    model = Cross(jr.PRNGKey(0))
    return message(
        mode, eqx.ShapeError, model, jnp.ones((q, 16)), jnp.ones((kv, 16)), mask
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_mask_the_wrong_way_round(mode):
    assert _run(mode, jnp.ones((5, 3), bool)) == (
        f"{_WHERE}bool[5,3], {_EXPECTED} with q_seq=3 (bound by argument query "
        'f32[3,16]) (closest: Bool[Array, "q_seq kv_seq"])\n'
        "  hint: mask.T would be bool[3,5], which fits."
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_of_masks_without_vmap(mode):
    # Reported against both forms of the contract, with the one vmap that fits.
    assert _run(mode, jnp.ones((4, 3, 5), bool)) == (
        f"{_WHERE}bool[4,3,5], {_EXPECTED} with num_heads=2 (bound by static field "
        'num_heads) (closest: Bool[Array, "num_heads q_seq kv_seq"])\n'
        "  hint: mask looks like a batch of 4 inputs of shape bool[3,5]. Map over it "
        "with jax.vmap: jax.vmap(model, in_axes=(None, None, 0))(q, kv, mask) for a "
        "batch of Cross inputs."
    )


_FLOAT_MASK = (
    f"{_WHERE}f32[3,5], {_EXPECTED} with q_seq=3 (bound by argument query f32[3,16]), "
    "kv_seq=5 (bound by argument key_ f32[5,16]) (expected a bool dtype, got f32)\n"
    "  hint: masks are boolean (True = attend). If mask holds 1 where attention is "
    "allowed, pass mask != 0; if it is an additive mask (0 = attend, -inf = "
    "blocked), pass mask == 0 (mask.astype(bool) would invert it)."
)


@pytest.mark.parametrize("mode", MODES)
def test_a_zero_one_float_mask(mode):
    assert _run(mode, jnp.tril(jnp.ones((3, 5)))) == _FLOAT_MASK


@pytest.mark.parametrize("mode", MODES)
def test_an_additive_float_mask(mode):
    keep = jnp.tril(jnp.ones((3, 5), bool))
    assert _run(mode, jnp.where(keep, 0.0, -jnp.inf)) == _FLOAT_MASK


@pytest.mark.parametrize("mode", MODES)
def test_a_zero_length_query_gives_an_empty_output(mode):
    # Equinox raises ZeroDivisionError; the output of no queries is empty.
    from diagnose import run

    out = run(mode, Cross(jr.PRNGKey(0)), jnp.ones((0, 16)), jnp.ones((5, 16)), None)
    assert out.shape[-2:] == (0, 16)


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_keys_in_another_dtype_under_strict_promotion(mode):
    # Under jax_numpy_dtype_promotion="strict" (the test suite's setting) a bf16
    # input to a float32 projection would fail inside JAX. The user passed `kv` to
    # the attention, so its contract names `key_`, not the inner Linear's `x`.
    model = Cross(jr.PRNGKey(0))
    kv = jnp.ones((5, 16), jnp.bfloat16)
    text = message(mode, eqx.ShapeError, model, jnp.ones((3, 16)), kv, None)
    assert text == (
        "Cross.attn (MultiheadAttention.__call__): argument key_ is bf16[5,16], "
        'expected Float[Array, "kv_seq key_size"] with key_size=16 (bound by static '
        "field key_size) (got dtype bf16, which does not promote with "
        "key_proj.weight's dtype float32 under jax_numpy_dtype_promotion='strict')\n"
        "  hint: key_.astype(jnp.float32) would be f32[5,16], which fits."
    )
