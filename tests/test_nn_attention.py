"""nn.MultiheadAttention: Equinox parity, a first-principles reference, contracts,
random configurations and bad configuration."""

import math
import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx as eqx
from helpers import ones, tree_allclose

eqx_ref = pytest.importorskip("equinox")

CONFIGS = [
    dict(num_heads=1, query_size=8),
    dict(num_heads=4, query_size=16),
    dict(num_heads=2, query_size=6, key_size=5, value_size=3, output_size=7),
    dict(num_heads=3, query_size=6, qk_size=5, vo_size=2, use_query_bias=True),
    dict(
        num_heads=2, query_size=4, use_key_bias=True, use_value_bias=True,
        use_output_bias=True,
    ),
]  # fmt: skip


def _inputs(layer, key, q_seq=5, kv_seq=7, dtype=jnp.float32):
    kq, kk, kv = jr.split(key, 3)
    query = jr.normal(kq, (q_seq, layer.query_size), dtype)
    key_ = jr.normal(kk, (kv_seq, layer.key_size), dtype)
    value = jr.normal(kv, (kv_seq, layer.value_size), dtype)
    return query, key_, value


def _masks(layer, key, q_seq=5, kv_seq=7):
    mask2 = jr.bernoulli(key, 0.7, (q_seq, kv_seq)).at[:, 0].set(True)
    mask3 = jr.bernoulli(key, 0.6, (layer.num_heads, q_seq, kv_seq))
    return [None, mask2, mask3.at[:, :, 0].set(True)]


def _rope_heads(rope):
    def process_heads(q, k, v):
        per_head = jax.vmap(rope, in_axes=1, out_axes=1)
        return per_head(q), per_head(k), v

    return process_heads


def _outputs(layer, inputs, masks, **kwargs):
    # One compilation for all masks instead of one per primitive (a busy CPU).
    return jax.jit(lambda *a: [layer(*a, m, **kwargs) for m in masks])(*inputs)


@pytest.mark.parametrize("config", CONFIGS)
def test_same_parameters_and_outputs_as_equinox(getkey, config):
    key = getkey()
    ours = eqx.nn.MultiheadAttention(**config, key=key)
    theirs = eqx_ref.nn.MultiheadAttention(**config, key=key)
    for name in ("query_proj", "key_proj", "value_proj", "output_proj"):
        assert tree_allclose(getattr(ours, name).weight, getattr(theirs, name).weight)
        assert tree_allclose(getattr(ours, name).bias, getattr(theirs, name).bias)
    inputs = _inputs(ours, getkey())
    masks = _masks(ours, getkey())
    outs = _outputs(ours, inputs, masks)
    for out, expected in zip(outs, _outputs(theirs, inputs, masks), strict=True):
        assert np.array_equal(out, expected)
        assert out.dtype == expected.dtype


@pytest.mark.parametrize("mask_rank", [None, 2, 3])
def test_dropout_uses_keys_like_equinox(getkey, mask_rank):
    key = getkey()
    ours = eqx.nn.MultiheadAttention(3, 6, dropout_p=0.4, key=key)
    theirs = eqx_ref.nn.MultiheadAttention(3, 6, dropout_p=0.4, key=key)
    inputs = _inputs(ours, getkey())
    mask = {None: None, 2: ones(5, 7, dtype=bool), 3: ones(3, 5, 7, dtype=bool)}
    dkey = getkey()
    out = ours(*inputs, mask[mask_rank], key=dkey)
    assert np.array_equal(out, theirs(*inputs, mask[mask_rank], key=dkey))
    assert not np.allclose(out, ours(*inputs, mask[mask_rank], inference=True))
    assert not np.allclose(out, ours(*inputs, mask[mask_rank], key=getkey()))


def test_process_heads_with_rope_like_equinox(getkey):
    key = getkey()
    ours = eqx.nn.MultiheadAttention(4, 16, use_query_bias=True, key=key)
    theirs = eqx_ref.nn.MultiheadAttention(4, 16, use_query_bias=True, key=key)
    inputs = _inputs(ours, getkey(), q_seq=6, kv_seq=6)
    rope_ours = eqx.nn.RotaryPositionalEmbedding(4)
    rope_theirs = eqx_ref.nn.RotaryPositionalEmbedding(4)
    out = ours(*inputs, process_heads=_rope_heads(rope_ours))
    assert np.array_equal(out, theirs(*inputs, process_heads=_rope_heads(rope_theirs)))
    assert not np.allclose(out, ours(*inputs))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_dtypes_like_equinox(getkey, dtype):
    key = getkey()
    ours = eqx.nn.MultiheadAttention(2, 8, dtype=dtype, key=key)
    theirs = eqx_ref.nn.MultiheadAttention(2, 8, dtype=dtype, key=key)
    assert ours.query_proj.weight.dtype == dtype
    inputs = _inputs(ours, getkey(), dtype=dtype)
    mask = _masks(ours, getkey())[2]
    (out,) = _outputs(ours, inputs, [mask])
    assert out.dtype == dtype
    assert np.array_equal(out, _outputs(theirs, inputs, [mask])[0])


def _reference(layer, query, key_, value, mask=None):
    """Softmax attention written out with einsum, from the layer's weights."""
    h, dqk, dvo = layer.num_heads, layer.qk_size, layer.vo_size

    def affine(lin, x):
        return x @ lin.weight.T + (0 if lin.bias is None else lin.bias[None])

    q = affine(layer.query_proj, query).reshape(query.shape[0], h, dqk)
    k = affine(layer.key_proj, key_).reshape(key_.shape[0], h, dqk)
    v = affine(layer.value_proj, value).reshape(value.shape[0], h, dvo)
    logits = jnp.einsum("qhd,khd->hqk", q, k) / math.sqrt(dqk)
    if mask is not None:
        logits = jnp.where(jnp.broadcast_to(mask, logits.shape), logits, -jnp.inf)
    weights = jax.nn.softmax(logits, axis=-1)
    heads = jnp.einsum("hqk,khd->qhd", weights, v).reshape(query.shape[0], h * dvo)
    return affine(layer.output_proj, heads)


@pytest.mark.parametrize("config", CONFIGS)
def test_matches_first_principles_reference(getkey, config):
    layer = eqx.nn.MultiheadAttention(**config, key=getkey())
    inputs = _inputs(layer, getkey())
    masks = _masks(layer, getkey())
    for mask, out in zip(masks, _outputs(layer, inputs, masks), strict=True):
        expected = _reference(layer, *inputs, mask)
        assert np.allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_masked_positions_have_no_influence(getkey):
    layer = eqx.nn.MultiheadAttention(2, 4, key=getkey())
    query, key_, value = _inputs(layer, getkey(), q_seq=3, kv_seq=4)
    mask = jnp.array([True, True, False, True])[None, :].repeat(3, axis=0)
    changed = value.at[2].set(100.0)
    masked = layer(query, key_, value, mask)
    assert np.allclose(masked, layer(query, key_, changed, mask))
    assert not np.allclose(layer(query, key_, value), layer(query, key_, changed))


def test_inference_mode_and_overrides(getkey):
    layer = eqx.nn.MultiheadAttention(2, 4, dropout_p=0.5, key=getkey())
    inputs = _inputs(layer, getkey())
    with pytest.raises(RuntimeError, match="requires a key"):
        layer(*inputs)
    quiet = eqx.nn.inference_mode(layer)
    assert quiet.dropout.inference is True
    assert np.array_equal(quiet(*inputs), layer(*inputs, inference=True))
    loud = eqx.nn.inference_mode(quiet, False)
    assert not np.array_equal(loud(*inputs, key=getkey()), quiet(*inputs))
    with pytest.warns(UserWarning, match="deprecated"):
        out = layer(*inputs, deterministic=True)
    assert np.array_equal(out, quiet(*inputs))


def test_process_heads_must_keep_shapes(getkey):
    layer = eqx.nn.MultiheadAttention(2, 4, key=getkey())

    def truncate(q, k, v):
        return q[:, :, :1], k, v

    with pytest.raises(ValueError, match=r"process_heads=\.\.\.\) must return .*"):
        layer(*_inputs(layer, getkey()), process_heads=truncate)


def test_numpy_inputs(getkey):
    layer = eqx.nn.MultiheadAttention(2, 4, key=getkey())
    inputs = _inputs(layer, getkey())
    mask = np.ones((5, 7), bool)
    from_numpy = layer(*(np.asarray(a) for a in inputs), mask)
    assert np.array_equal(from_numpy, layer(*inputs, jnp.asarray(mask)))


def test_grad_and_jit(getkey):
    layer = eqx.nn.MultiheadAttention(2, 4, key=getkey())
    inputs = _inputs(layer, getkey())

    @eqx.filter_jit
    @eqx.filter_grad
    def grads(model):
        return jnp.sum(model(*inputs) ** 2)

    g = grads(layer)
    assert g.query_proj.weight.shape == layer.query_proj.weight.shape
    assert jnp.all(jnp.isfinite(g.output_proj.weight))


@pytest.mark.parametrize(
    ("num_heads", "query_size", "extra", "argument"),
    [
        (0, 4, {}, "num_heads"),
        (-1, 4, {}, "num_heads"),
        (2.0, 4, {}, "num_heads"),
        (2, -4, {}, "query_size"),
        (2, 4, {"key_size": -1}, "key_size"),
        (2, 4, {"value_size": -1}, "value_size"),
        (2, 4, {"output_size": -2}, "output_size"),
        (2, 4, {"qk_size": -1}, "qk_size"),
        (2, 4, {"vo_size": 1.5}, "vo_size"),
        (2, 4, {"dropout_p": -0.1}, "dropout_p"),
        (2, 4, {"dropout_p": 1.5}, "dropout_p"),
    ],
)
def test_bad_configuration(getkey, num_heads, query_size, extra, argument):
    with pytest.raises(ValueError, match=rf"MultiheadAttention\({argument}=\.\.\.\)"):
        eqx.nn.MultiheadAttention(num_heads, query_size, **extra, key=getkey())


# --- contracts: wrong inputs are a ShapeError naming the layer, argument and dim ---

_GOOD = dict(query=(5, 6), key_=(7, 3), value=(7, 2), mask=None)
_BAD = [
    ("query", dict(query=(5, 4)), "query_size"),
    ("key_", dict(key_=(7, 4)), "key_size"),
    ("value", dict(value=(7, 5)), "value_size"),
    ("value", dict(value=(6, 2)), "kv_seq"),
    ("query", dict(query=(2, 5, 6)), "q_seq query_size"),
    ("mask", dict(mask=(7, 5)), "q_seq"),
    ("mask", dict(mask=(5, 6)), "kv_seq"),
    ("mask", dict(mask=(3, 5, 7)), "num_heads"),
    ("mask", dict(mask=(1, 7)), "q_seq"),
    ("mask", dict(mask=(5,)), "q_seq kv_seq"),
]
_DTYPES = [
    ("query", "query", jnp.int32, "float"),
    ("mask", "mask", jnp.float32, "bool"),
]


def _call_variant(variant, layer, arrays):
    def call(layer, query, key_, value, mask):
        return layer(query, key_, value, mask)

    if variant == "eager":
        return call(layer, *arrays)
    if variant == "jit":
        return eqx.filter_jit(call)(layer, *arrays)
    batched = [None if a is None else jnp.stack([a, a]) for a in arrays]
    return eqx.filter_vmap(call, in_axes=(None, 0, 0, 0, 0))(layer, *batched)


def _arrays(shapes, dtypes=None):
    dtypes = dtypes or {}
    out = []
    for name in ("query", "key_", "value", "mask"):
        shape = shapes[name]
        default = bool if name == "mask" else jnp.float32
        dtype = dtypes.get(name, default)
        out.append(None if shape is None else ones(*shape, dtype=dtype))
    return out


@pytest.fixture(params=["eager", "jit", "vmap"])
def variant(request):
    return request.param


def _layer(key):
    return eqx.nn.MultiheadAttention(
        2, 6, key_size=3, value_size=2, output_size=4, key=key
    )


def test_good_call_in_every_variant(getkey, variant):
    for mask in [None, (5, 7), (2, 5, 7)]:
        out = _call_variant(variant, _layer(getkey()), _arrays({**_GOOD, "mask": mask}))
        assert out.shape == ((5, 4) if variant != "vmap" else (2, 5, 4))


@pytest.mark.parametrize(("argument", "change", "dims"), _BAD)
def test_wrong_shape_is_a_shape_error(getkey, variant, argument, change, dims):
    arrays = _arrays({**_GOOD, **change})
    with pytest.raises(eqx.ShapeError) as info:
        _call_variant(variant, _layer(getkey()), arrays)
    error = info.value
    assert error.parameter == argument
    assert str(error).startswith(f"MultiheadAttention.__call__: argument {argument} ")
    for dim in dims.split():
        assert dim in str(error)


@pytest.mark.parametrize(("argument", "name", "dtype", "expected"), _DTYPES)
def test_wrong_dtype_is_a_shape_error(getkey, variant, argument, name, dtype, expected):
    arrays = _arrays({**_GOOD, "mask": (5, 7)}, {name: dtype})
    with pytest.raises(eqx.ShapeError, match=f"argument {argument} .*{expected}"):
        _call_variant(variant, _layer(getkey()), arrays)


def test_transposed_mask_hint(getkey):
    layer = _layer(getkey())
    query, key_, value, _ = _arrays(_GOOD)
    with pytest.raises(eqx.ShapeError) as info:
        layer(query, key_, value, ones(7, 5, dtype=bool))
    assert info.value.path == "MultiheadAttention"
    assert info.value.hint == "mask.T would be bool[5,7], which fits."


# --- random configurations: the right shape, or a typedeqx error; never XLA's ---


@given(
    num_heads=st.integers(1, 3),
    sizes=st.tuples(*[st.integers(1, 4)] * 4),
    seqs=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    offsets=st.tuples(*[st.sampled_from([0, 0, 0, 1])] * 5),
    mask_kind=st.sampled_from([None, "2d", "3d", "2dT"]),
)
def test_random_configurations(num_heads, sizes, seqs, offsets, mask_kind):
    qsize, ksize, vsize, qk = sizes
    layer = eqx.nn.MultiheadAttention(
        num_heads, qsize, ksize, vsize, qk_size=qk, vo_size=qk, key=jr.PRNGKey(0)
    )
    q_seq, kv_seq = seqs
    dq, dk, dv, dseq, dmask = offsets
    query = ones(q_seq, qsize + dq)
    key_ = ones(kv_seq, ksize + dk)
    value = ones(kv_seq + dseq, vsize + dv)
    mask_shape = {
        None: None,
        "2d": (q_seq, kv_seq + dmask),
        "3d": (num_heads + dmask, q_seq, kv_seq),
        "2dT": (kv_seq, q_seq + dmask),
    }[mask_kind]
    mask = None if mask_shape is None else ones(*mask_shape, dtype=bool)
    valid = (dq, dk, dv, dseq) == (0, 0, 0, 0) and (
        mask_shape is None
        or mask_shape in [(q_seq, kv_seq), (num_heads, q_seq, kv_seq)]
    )
    if valid:
        assert layer(query, key_, value, mask).shape == (q_seq, qsize)
    else:
        with pytest.raises(eqx.ShapeError, match=r"^MultiheadAttention.__call__"):
            layer(query, key_, value, mask)


def test_no_warnings_in_a_normal_call(getkey):
    layer = eqx.nn.MultiheadAttention(2, 4, key=getkey())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(*_inputs(layer, getkey()))
