"""nn.BatchNorm: Equinox parity, a first-principles reference, contracts,
training under filter_jit, inference mode, bad configurations."""

import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typedeqx as eqx
from helpers import ones

equinox = pytest.importorskip("equinox")

BATCH = (eqx.if_array(0), None)


def batched(model, **kw):
    """`model` over a batch, under filter_jit and filter_vmap(axis_name="batch")."""
    fn = eqx.filter_vmap(
        lambda x, s: model(x, s, **kw),
        axis_name="batch",
        in_axes=BATCH,
        out_axes=BATCH,
    )
    return eqx.filter_jit(fn)


def eq_batched(model, **kw):
    """The same for Equinox's `model`, under jax.jit (XLA fuses differently from
    eager dispatch, so bit-identical results need the same kind of call)."""
    fn = jax.vmap(
        lambda x, s: model(x, s, **kw),
        axis_name="batch",
        in_axes=(0, None),
        out_axes=(0, None),
    )
    return jax.jit(fn)


def _same(a, b):
    """Bit-identical: same dtype, shape and bits."""
    return a.dtype == b.dtype and np.array_equal(
        np.asarray(a).reshape(-1).view(np.uint8),
        np.asarray(b).reshape(-1).view(np.uint8),
    )


@pytest.mark.parametrize("mode", ["ema", "batch"])
@pytest.mark.parametrize(
    ("affine", "momentum", "dtype"),
    [
        (True, 0.99, jnp.float32),
        (False, 0.5, jnp.float32),
        (True, 0.9, jnp.float16),
        (True, 0.99, jnp.bfloat16),
        (False, 0.99, jnp.float16),
    ],
)
def test_same_as_equinox_over_several_steps(getkey, mode, affine, momentum, dtype):
    # Bit-identical values and State at every step, and in inference afterwards; in
    # bfloat16/float16 this pins the debiasing factor `1 - momentum ** count`, which
    # Equinox computes in float32 (in the layer's dtype it is 18% off).
    kw = dict(channelwise_affine=affine, momentum=momentum, dtype=dtype, mode=mode)
    ours, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", **kw)
    theirs, eq_state = equinox.nn.make_with_state(equinox.nn.BatchNorm)(
        3, "batch", **kw
    )
    assert np.array_equal(ours.weight, theirs.weight) if affine else ours.weight is None
    for step in range(4):
        x = (jr.normal(getkey(), (6, 3, 4)) * (step + 1) + 3).astype(dtype)
        y, state = batched(ours)(x, state)
        ey, eq_state = eq_batched(theirs)(x, eq_state)
        assert y.shape == (6, 3, 4) and _same(y, ey)
        leaves, eq_leaves = jtu.tree_leaves(state), jtu.tree_leaves(eq_state)
        assert all(_same(a, b) for a, b in zip(leaves, eq_leaves, strict=True))
    x = (jr.normal(getkey(), (2, 3, 4)) + 3).astype(dtype)
    y, _ = batched(ours, inference=True)(x, state)
    ey, _ = eq_batched(theirs, inference=True)(x, eq_state)
    assert _same(y, ey)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_debiasing_factor_in_float32(getkey, dtype):
    # After 3 updates of momentum 0.99 the data weigh 1 - 0.99**3 = 0.0297 (float32);
    # in bfloat16 0.99 rounds to 0.98828 and the factor would be 0.0347.
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(
        1, "batch", mode="batch", channelwise_affine=False, dtype=dtype
    )
    x = jnp.full((4, 1), 3.0, dtype)
    for _ in range(3):
        _, state = batched(bn)(x, state)
    mean, _ = state.get(bn.batch_state_index)
    assert float(mean[0]) / (1 - 0.99**3) == pytest.approx(3.0, rel=2e-2)
    y, _ = batched(bn, inference=True)(jnp.zeros((1, 1), dtype), state)
    # Debiased, the running mean is 3 (to the dtype's precision) and the running
    # variance, which started at 1 and saw only 0s, 0.99**3 / (1 - 0.99**3).
    var = 0.99**3 / (1 - 0.99**3)
    assert float(y[0, 0]) == pytest.approx(-3.0 / np.sqrt(var + 1e-5), rel=2e-2)


def _loss_and_grads(lib, model, state, x):
    params, static = lib.partition(model, lib.is_inexact_array)

    def loss(params, x):
        m = lib.combine(params, static)
        fn = jax.vmap(m, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
        y, new = fn(x, state)
        weights = jnp.linspace(-1.0, 2.0, y.size).reshape(y.shape)
        return jnp.sum(y.astype(jnp.float32) * weights), new

    return jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(params, x)


@pytest.mark.parametrize("mode", ["ema", "batch"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("affine", [True, False])
def test_gradients_same_as_equinox(getkey, mode, dtype, affine):
    # Equinox computes `x - mean` twice in the variance; reusing it changes the
    # backward pass by an ulp, which training at a high learning rate amplifies.
    kw = dict(channelwise_affine=affine, mode=mode, dtype=dtype)
    ours, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", **kw)
    theirs, eq_state = equinox.nn.make_with_state(equinox.nn.BatchNorm)(
        3, "batch", **kw
    )
    for _ in range(3):
        x = (jr.normal(getkey(), (6, 3, 4)) * 2 + 3).astype(dtype)
        (value, state), grads = _loss_and_grads(eqx, ours, state, x)
        (eq_value, eq_state), eq_grads = _loss_and_grads(equinox, theirs, eq_state, x)
        assert _same(value, eq_value)
        leaves, eq_leaves = jtu.tree_leaves(grads), jtu.tree_leaves(eq_grads)
        assert len(leaves) == (3 if affine else 1)
        assert all(_same(a, b) for a, b in zip(leaves, eq_leaves, strict=True))


def test_reference_from_the_formula(getkey):
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(2, "batch", mode="batch")
    bn = eqx.tree_at(lambda m: (m.weight, m.bias), bn, (jnp.array([2.0, 1.0]), ones(2)))
    x = jr.normal(getkey(), (8, 2, 5))
    y, state = batched(bn)(x, state)
    xn = np.asarray(x, np.float64)
    mean = xn.mean(axis=(0, 2), keepdims=True)
    var = xn.var(axis=(0, 2), keepdims=True)
    expected = (xn - mean) / np.sqrt(var + 1e-5) * np.array([2.0, 1.0])[:, None] + 1
    assert np.allclose(y, expected, atol=1e-5)
    # One update from (0, 1) with momentum 0.99, then zero-debiased: the batch stats.
    run_mean, run_var = state.get(bn.batch_state_index)
    assert np.allclose(run_mean, 0.01 * mean.ravel(), atol=1e-6)
    # Inference: the running averages started at (0, 1), one update, zero-debiased
    # by 1 - 0.99: the mean is the batch mean, the variance 0.99 / 0.01 + var.
    y_inf, same = batched(bn, inference=True)(x, state)
    scale = np.sqrt(99 + var + 1e-5)
    expected_inf = (xn - mean) / scale * np.array([2.0, 1.0])[:, None] + 1
    assert np.allclose(y_inf, expected_inf, atol=1e-4)
    assert int(same.get(bn.batch_counter)) == 1


def test_ema_first_step_uses_batch_statistics(getkey):
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(
        2, "batch", channelwise_affine=False, mode="ema"
    )
    x = jr.normal(getkey(), (4, 2))
    y, state = batched(bn)(x, state)
    xn = np.asarray(x, np.float64)
    assert np.allclose(y, (xn - xn.mean(0)) / np.sqrt(xn.var(0) + 1e-5), atol=1e-5)
    mean, var = state.get(bn.ema_state_index)
    assert np.allclose(mean, xn.mean(0), atol=1e-6) and np.allclose(var, xn.var(0))


def test_default_mode_warns_as_equinox_does():
    with pytest.warns(UserWarning, match="mode"):
        bn = eqx.nn.BatchNorm(3, "batch")
    assert bn.mode == "ema"
    with pytest.warns(UserWarning):
        equinox.nn.BatchNorm(3, "batch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eqx.nn.BatchNorm(3, "batch", mode="batch")


def test_needs_a_named_axis():
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    with pytest.raises(NameError):
        bn(ones(3, 2), state)


def test_inference_mode_flag():
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="ema")
    frozen = eqx.nn.inference_mode(bn)
    assert frozen.inference and not eqx.nn.inference_mode(frozen, False).inference
    # In inference the state is read, not updated, and no named axis is needed.
    y, same = frozen(ones(3, 2), state)
    assert y.shape == (3, 2) and same is state


def _jax_value_and_grad(loss):
    # The same as filter_value_and_grad, spelt with jax.value_and_grad.
    def value_and_grad(model):
        params, static = eqx.partition(model, eqx.is_inexact_array)
        fn = jax.value_and_grad(lambda p: loss(eqx.combine(p, static)), has_aux=True)
        return fn(params)

    return value_and_grad


@pytest.mark.parametrize(
    "value_and_grad",
    [
        _jax_value_and_grad,
        lambda loss: eqx.filter_value_and_grad(loss, has_aux=True),
    ],
    ids=["jax", "filter"],
)
def test_training_then_inference(getkey, value_and_grad):
    class Net(eqx.Module):
        lin: eqx.nn.Linear
        bn: eqx.nn.BatchNorm

        def __init__(self, key):
            self.lin = eqx.nn.Linear(3, 4, key=key)
            self.bn = eqx.nn.BatchNorm(4, "batch", mode="batch")

        def __call__(self, x, state):
            return self.bn(self.lin(x), state)

    model, state = eqx.nn.make_with_state(Net)(getkey())
    opt = optax.sgd(0.1)
    opt_state = opt.init(eqx.filter(model, eqx.is_inexact_array))
    xs = jr.normal(getkey(), (16, 3))

    @eqx.filter_jit
    def step(model, state, opt_state):
        def loss(m):
            y, s = eqx.filter_vmap(m, axis_name="batch", in_axes=BATCH, out_axes=BATCH)(
                xs, state
            )
            return jnp.mean((y - 1.0) ** 2), s

        (value, state), grads = value_and_grad(loss)(model)
        updates, opt_state = opt.update(grads, opt_state)
        return eqx.apply_updates(model, updates), state, opt_state, value

    losses = []
    for _ in range(5):
        model, state, opt_state, value = step(model, state, opt_state)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    assert int(state.get(model.bn.batch_counter)) == 5
    infer = eqx.nn.inference_mode(model)
    y, _ = eqx.filter_jit(lambda m, x, s: m(x, s))(infer, xs[0], state)
    assert y.shape == (4,) and bool(jnp.all(jnp.isfinite(y)))


CALLS = {
    "eager": lambda bn, x, s: bn(x, s),
    "filter_jit": lambda bn, x, s: eqx.filter_jit(lambda m, x, s: m(x, s))(bn, x, s),
    "filter_vmap": lambda bn, x, s: batched(bn)(x[None], s),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    ("x", "detail"),
    [
        (ones(4, 2), r"x is f32\[4,2\].*input_size=3"),
        (ones(), r"x is f32\[\].*input_size"),
        (jnp.ones((3, 2), jnp.int32), r"x is i32\[3,2\]"),
    ],
    ids=["size", "rank", "dtype"],
)
def test_contract(call, x, detail):
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    with pytest.raises(eqx.ShapeError, match=r"BatchNorm.__call__: argument " + detail):
        CALLS[call](bn, x, state)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(mode="bad"), "mode"),
        (dict(input_size=0), "input_size"),
        (dict(input_size=2.0), "input_size"),
        (dict(momentum=1.5), "momentum"),
        (dict(eps=-1.0), "eps"),
    ],
)
def test_bad_configuration(kwargs, name):
    args = dict(input_size=3, axis_name="batch", mode="batch") | kwargs
    with pytest.raises(ValueError, match=name):
        eqx.nn.BatchNorm(**args)


@given(
    size=st.integers(1, 4),
    given_size=st.integers(1, 4),
    rest=st.lists(st.integers(1, 3), max_size=2),
    mode=st.sampled_from(["ema", "batch"]),
    affine=st.booleans(),
)
def test_random_configurations(size, given_size, rest, mode, affine):
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(
        size, "batch", channelwise_affine=affine, mode=mode
    )
    x = jnp.ones((2, given_size, *rest))
    fn = jax.vmap(bn, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    try:
        y, _ = fn(x, state)
    except eqx.ShapeError as e:
        assert given_size != size and "input_size" in str(e)
    else:
        assert given_size == size and y.shape == x.shape
