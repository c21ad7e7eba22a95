"""nn.SpectralNorm: Equinox parity over several steps, the largest singular value
from an SVD, contracts, training, inference mode, bad configurations."""

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import optax
import pytest

import typedeqx as eqx
from helpers import ones
from parity import assert_same_output

equinox = pytest.importorskip("equinox")


def apply(model, x, state, **kw):
    return eqx.filter_jit(lambda m, x, s: m(x, s, **kw))(model, x, state)


@pytest.mark.parametrize("iterations", [0, 1, 3])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float16])
def test_same_as_equinox_over_several_steps(getkey, iterations, dtype):
    key, lkey = getkey(), getkey()
    make = eqx.nn.make_with_state(eqx.nn.SpectralNorm)
    ours, state = make(
        eqx.nn.Linear(5, 4, dtype=dtype, key=lkey), "weight", iterations, key=key
    )
    theirs, eq_state = equinox.nn.make_with_state(equinox.nn.SpectralNorm)(
        equinox.nn.Linear(5, 4, dtype=dtype, key=lkey), "weight", iterations, key=key
    )
    tol = 1e-2 if dtype == jnp.float16 else 1e-5
    for _ in range(4):
        x = jr.normal(getkey(), (5,), dtype)
        y, state = apply(ours, x, state)
        ey, eq_state = theirs(x, eq_state)
        assert y.dtype == ey.dtype and np.allclose(y, ey, atol=tol, rtol=tol)
    for a, b in zip(jtu.tree_leaves(state), jtu.tree_leaves(eq_state)):
        assert a.dtype == b.dtype and np.allclose(a, b, atol=tol, rtol=tol)


def test_sigma_is_the_largest_singular_value(getkey):
    lin = eqx.nn.Linear(6, 4, use_bias=False, key=getkey())
    sn, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        lin, "weight", num_power_iterations=50, key=getkey()
    )
    y, state = apply(sn, ones(6), state)
    top = np.linalg.svd(np.asarray(lin.weight, np.float64), compute_uv=False)[0]
    assert np.allclose(y, lin.weight @ ones(6) / top, rtol=1e-4)
    # The normalised weight has spectral norm 1.
    u, v = state.get(sn.uv_index)
    normalised = lin.weight / jnp.einsum("i,ij,j->", u, lin.weight, v)
    assert np.isclose(jnp.linalg.svd(normalised, compute_uv=False)[0], 1.0, rtol=1e-4)


def test_higher_rank_weight_is_reshaped(getkey):
    class Kernel(eqx.Module):
        weight: jax.Array

        def __call__(self, x, *, key=None):
            return jnp.einsum("oij,ij->o", self.weight, x)

    k = Kernel(jr.normal(getkey(), (3, 2, 4)))
    sn, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        k, "weight", num_power_iterations=50, key=getkey()
    )
    y, _ = apply(sn, ones(2, 4), state)
    top = np.linalg.svd(np.asarray(k.weight).reshape(3, 8), compute_uv=False)[0]
    assert np.allclose(y, k(ones(2, 4)) / top, rtol=1e-4)


def test_inference_leaves_state_unchanged(getkey):
    sn, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        eqx.nn.Linear(3, 3, key=getkey()), "weight", key=getkey()
    )
    frozen = eqx.nn.inference_mode(sn)
    assert frozen.inference
    before = jtu.tree_leaves(state)
    _, after = apply(frozen, ones(3), state)
    assert all(np.array_equal(a, b) for a, b in zip(before, jtu.tree_leaves(after)))
    _, after = apply(sn, ones(3), after, inference=False)
    assert not all(np.array_equal(a, b) for a, b in zip(before, jtu.tree_leaves(after)))


def test_training_then_inference(getkey):
    sn, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        eqx.nn.Linear(3, 2, key=getkey()), "weight", key=getkey()
    )
    opt = optax.sgd(0.1)
    opt_state = opt.init(eqx.filter(sn, eqx.is_inexact_array))
    xs, ys = jr.normal(getkey(), (8, 3)), jr.normal(getkey(), (8, 2))

    @eqx.filter_jit
    def step(model, state, opt_state):
        def loss(m):
            y, s = jax.vmap(m, in_axes=(0, None), out_axes=(0, None))(xs, state)
            return jnp.mean((y - ys) ** 2), s

        (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(model)
        updates, opt_state = opt.update(grads, opt_state)
        return eqx.apply_updates(model, updates), state, opt_state, value

    losses = []
    for _ in range(10):
        sn, state, opt_state, value = step(sn, state, opt_state)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    y, _ = apply(eqx.nn.inference_mode(sn), xs[0], state)
    assert y.shape == (2,)


CALLS = {
    "eager": lambda m, x, s: m(x, s),
    "filter_jit": apply,
    "filter_vmap": lambda m, x, s: eqx.filter_vmap(
        m, in_axes=(eqx.if_array(0), None), out_axes=(eqx.if_array(0), None)
    )(x[None], s),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    ("x", "detail"),
    [
        (ones(4), r"x is f32\[4\].*in_features=3"),
        (ones(2, 3), r"x is f32\[2,3\]"),
        (jnp.ones(3, jnp.int32), r"x is i32\[3\]"),
    ],
    ids=["size", "rank", "dtype"],
)
def test_contract_of_the_wrapped_layer(getkey, call, x, detail):
    sn, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        eqx.nn.Linear(3, 2, key=getkey()), "weight", key=getkey()
    )
    with pytest.raises(eqx.ShapeError, match=r"Linear.__call__\): argument " + detail):
        CALLS[call](sn, x, state)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(weight_name="bias"), "weight"),
        (dict(weight_name="nope"), "weight_name"),
        (dict(num_power_iterations=-1), "num_power_iterations"),
        (dict(eps=-1.0), "eps"),
    ],
)
def test_bad_configuration(getkey, kwargs, name):
    args = dict(weight_name="weight") | kwargs
    with pytest.raises(ValueError, match=name):
        eqx.nn.SpectralNorm(eqx.nn.Linear(3, 2, key=getkey()), key=getkey(), **args)


def _loss_and_grads(lib, model, state, x):
    params, static = lib.partition(model, lib.is_inexact_array)

    def loss(params, x):
        y, new = lib.combine(params, static)(x, state)
        weights = jnp.linspace(-1.0, 2.0, y.size).reshape(y.shape)
        return jnp.sum(y.astype(jnp.float32) * weights), new

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(params, x)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("inference", [False, True])
def test_gradients_same_as_equinox(getkey, dtype, inference):
    # Bit-identical loss, gradients (weight, bias, input) and State over steps.
    key, lkey = getkey(), getkey()
    ours, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        eqx.nn.Conv1d(3, 4, 2, dtype=dtype, key=lkey),
        "weight",
        2,
        inference=inference,
        key=key,
    )
    theirs, eq_state = equinox.nn.make_with_state(equinox.nn.SpectralNorm)(
        equinox.nn.Conv1d(3, 4, 2, dtype=dtype, key=lkey),
        "weight",
        2,
        inference=inference,
        key=key,
    )
    for _ in range(2):
        x = jr.normal(getkey(), (3, 6), dtype)
        (value, state), grads = _loss_and_grads(eqx, ours, state, x)
        (eq_value, eq_state), eq_grads = _loss_and_grads(equinox, theirs, eq_state, x)
        assert_same_output(
            [value, *jtu.tree_leaves(grads)], [eq_value, *jtu.tree_leaves(eq_grads)]
        )
        assert_same_output(jtu.tree_leaves(state), jtu.tree_leaves(eq_state))
    assert len(jtu.tree_leaves(grads)) == 3
