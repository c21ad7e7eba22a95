"""nn.RotaryPositionalEmbedding: Equinox parity, the cos/sin definition, use inside
`process_heads`, contracts and bad configuration."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import typedeqx as eqx
from helpers import ones

eqx_ref = pytest.importorskip("equinox")


def _reference(x, theta=10_000.0):
    """Rotate channel pairs (i, i + d/2) of position t by t * theta**(-2i/d)."""
    x = np.asarray(x, np.float64)
    seq, d = x.shape
    half = d // 2
    out = np.empty_like(x)
    for t in range(seq):
        for i in range(half):
            angle = t * theta ** (-2 * i / d)
            a, b = x[t, i], x[t, i + half]
            out[t, i] = a * np.cos(angle) - b * np.sin(angle)
            out[t, i + half] = a * np.sin(angle) + b * np.cos(angle)
    return out


@pytest.mark.parametrize(("seq", "size", "theta"), [(5, 4, 10_000.0), (9, 8, 500.0)])
def test_matches_definition(getkey, seq, size, theta):
    x = jr.normal(getkey(), (seq, size))
    rope = eqx.nn.RotaryPositionalEmbedding(size, theta=theta)
    assert np.allclose(rope(x), _reference(x, theta), rtol=1e-5, atol=1e-5)


def test_preserves_norms_and_relative_positions(getkey):
    rope = eqx.nn.RotaryPositionalEmbedding(6)
    q, k = jr.normal(getkey(), (2, 6))
    x = jnp.stack([q] * 8)
    y = jnp.stack([k] * 8)
    rx, ry = rope(x), rope(y)
    assert np.allclose(jnp.linalg.norm(rx, axis=-1), jnp.linalg.norm(x, axis=-1))
    # <R_s q, R_t k> depends on t - s only
    assert np.allclose(rx[1] @ ry[3], rx[4] @ ry[6], atol=1e-5)
    assert np.allclose(rope(x)[0], x[0])


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("seq", [1, 6])
def test_same_as_equinox(getkey, dtype, seq):
    x = jr.normal(getkey(), (seq, 8), dtype)
    ours = eqx.nn.RotaryPositionalEmbedding(8, dtype=dtype)
    theirs = eqx_ref.nn.RotaryPositionalEmbedding(8, dtype=dtype)
    out = ours(x)
    assert out.dtype == dtype
    assert np.array_equal(out, theirs(x))


def test_fields_like_equinox():
    rope = eqx.nn.RotaryPositionalEmbedding(4)
    assert rope.embedding_size == 4 and rope.theta == 10_000.0
    assert rope.dtype == jnp.float32
    assert jax.tree_util.tree_leaves(rope) == []
    rope_class = eqx.nn.RotaryPositionalEmbedding
    cos, sin = rope_class.precompute_freqs_cis(4, 3, 100.0, jnp.float32)
    assert cos.shape == sin.shape == (3, 2)
    ref_cos, _ = eqx_ref.nn.RotaryPositionalEmbedding.precompute_freqs_cis(
        4, 3, 100.0, jnp.float32
    )
    assert np.array_equal(cos, ref_cos)
    assert np.array_equal(
        eqx.nn.RotaryPositionalEmbedding.rotate_half(jnp.array([[1.0, 2.0, 3.0, 4.0]])),
        jnp.array([[-3.0, -4.0, 1.0, 2.0]]),
    )


def test_theta_is_respected_per_layer(getkey):
    # Each layer uses its own theta, whatever layers were called before it.
    x = jr.normal(getkey(), (4, 4))
    first = eqx.nn.RotaryPositionalEmbedding(4, theta=10.0)(x)
    second = eqx.nn.RotaryPositionalEmbedding(4, theta=1e6)(x)
    assert np.allclose(second, _reference(x, 1e6), atol=1e-5)
    assert not np.allclose(first, second)


def test_inside_process_heads_of_attention(getkey):
    rope = eqx.nn.RotaryPositionalEmbedding(4)
    attention = eqx.nn.MultiheadAttention(3, 12, key=getkey())

    def process_heads(query_heads, key_heads, value_heads):
        per_head = jax.vmap(rope, in_axes=1, out_axes=1)
        return per_head(query_heads), per_head(key_heads), value_heads

    x = jr.normal(getkey(), (5, 12))
    out = eqx.filter_jit(attention)(x, x, x, process_heads=process_heads)
    assert out.shape == (5, 12)
    assert not np.allclose(out, attention(x, x, x))

    wrong = eqx.nn.RotaryPositionalEmbedding(6)

    def wrong_heads(query_heads, key_heads, value_heads):
        per_head = jax.vmap(wrong, in_axes=1, out_axes=1)
        return per_head(query_heads), per_head(key_heads), value_heads

    match = r"argument x is f32\[5,4\].*embedding_size=6"
    with pytest.raises(eqx.ShapeError, match=match):
        attention(x, x, x, process_heads=wrong_heads)


@pytest.mark.parametrize(
    ("shape", "dtype", "match"),
    [
        ((5, 6), jnp.float32, r"argument x is f32\[5,6\].*embedding_size=4"),
        ((4,), jnp.float32, r"argument x is f32\[4\]"),
        ((2, 5, 4), jnp.float32, r"argument x is f32\[2,5,4\]"),
        ((5, 4), jnp.int32, r"argument x is i32\[5,4\].*float"),
    ],
)
@pytest.mark.parametrize("variant", ["eager", "jit", "vmap"])
def test_contract(shape, dtype, match, variant):
    rope = eqx.nn.RotaryPositionalEmbedding(4)
    x = ones(*shape, dtype=dtype)
    call = {
        "eager": rope,
        "jit": eqx.filter_jit(rope),
        "vmap": lambda x: eqx.filter_vmap(rope)(jnp.stack([x, x])),
    }[variant]
    with pytest.raises(eqx.ShapeError, match=match) as info:
        call(x)
    assert info.value.path == "RotaryPositionalEmbedding"
    assert call(ones(3, 4)).shape[-2:] == (3, 4)


@pytest.mark.parametrize("size", [3, -2, 2.0])
def test_bad_embedding_size(size):
    with pytest.raises(ValueError, match=r"RotaryPositionalEmbedding\(embedding_size"):
        eqx.nn.RotaryPositionalEmbedding(size)
    with pytest.raises(ValueError):
        eqx_ref.nn.RotaryPositionalEmbedding(3)


@pytest.mark.parametrize("theta", [0.0, -1.0, "big"])
def test_bad_theta(theta):
    with pytest.raises(ValueError, match=r"RotaryPositionalEmbedding\(theta=\.\.\.\)"):
        eqx.nn.RotaryPositionalEmbedding(4, theta=theta)


def test_integer_theta_like_equinox(getkey):
    x = jr.normal(getkey(), (3, 4))
    ours = eqx.nn.RotaryPositionalEmbedding(4, theta=500)
    assert ours.theta == 500
    assert np.allclose(ours(x), _reference(x, 500.0), atol=1e-5)
