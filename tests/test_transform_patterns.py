"""The patterns of the Equinox documentation that rest on filtered transformations:
ensembles, low-overhead training loops, scan-over-layers, filtered training with
optax, and the "All of Equinox" examples."""

import jax
import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

import typedeqx as eqx
from helpers import tree_allclose


def test_ensemble_of_mlps():
    key = jr.PRNGKey(0)
    keys = jr.split(key, 8)

    @eqx.filter_vmap
    def make_ensemble(key):
        return eqx.nn.MLP(2, 2, 2, 2, key=key)

    mlp_ensemble = make_ensemble(keys)
    assert mlp_ensemble.layers[0].weight.shape == (8, 2, 2)
    assert mlp_ensemble.activation is jax.nn.relu  # non-arrays left alone

    @eqx.filter_vmap(in_axes=(eqx.if_array(0), None))
    def evaluate_ensemble(model, x):
        return model(x)

    x = jr.normal(key, (2,))
    shared = evaluate_ensemble(mlp_ensemble, x)
    assert shared.shape == (8, 2)

    @eqx.filter_vmap
    def evaluate_per_ensemble(model, x):
        return model(x)

    xs = jr.normal(key, (8, 2))
    per_member = evaluate_per_ensemble(mlp_ensemble, xs)
    assert per_member.shape == (8, 2)
    # member 3 of the ensemble is the MLP built from keys[3]
    member = eqx.nn.MLP(2, 2, 2, 2, key=keys[3])
    np.testing.assert_allclose(shared[3], member(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(per_member[3], member(xs[3]), rtol=1e-5, atol=1e-6)


def _data(key, n=64):
    x = jr.normal(key, (n, 2))
    return x, jnp.tanh(x @ jnp.array([[1.0, 2.0], [-1.0, 0.5]]))


def _loss(model, x, y):
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def test_low_overhead_training_loop_matches_plain_loop():
    model = eqx.nn.MLP(2, 2, 8, 2, key=jr.PRNGKey(1))
    optim = optax.sgd(0.1)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    x, y = _data(jr.PRNGKey(2))

    @eqx.filter_jit
    def make_step(model, opt_state, x, y):
        grads = eqx.filter_grad(_loss)(model, x, y)
        updates, opt_state = optim.update(grads, opt_state)
        return eqx.apply_updates(model, updates), opt_state

    flat_model, treedef_model = jax.tree_util.tree_flatten(model)
    flat_opt_state, treedef_opt_state = jax.tree_util.tree_flatten(opt_state)

    @eqx.filter_jit
    def make_flat_step(flat_model, flat_opt_state, x, y):
        model = jax.tree_util.tree_unflatten(treedef_model, flat_model)
        opt_state = jax.tree_util.tree_unflatten(treedef_opt_state, flat_opt_state)
        model, opt_state = make_step(model, opt_state, x, y)
        return jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(opt_state)

    plain_model, plain_state = model, opt_state
    for _ in range(5):
        plain_model, plain_state = make_step(plain_model, plain_state, x, y)
        flat_model, flat_opt_state = make_flat_step(flat_model, flat_opt_state, x, y)
    model = jax.tree_util.tree_unflatten(treedef_model, flat_model)
    assert tree_allclose(model, plain_model)
    assert _loss(model, x, y) < _loss(eqx.nn.MLP(2, 2, 8, 2, key=jr.PRNGKey(1)), x, y)


class TenMLPs(eqx.Module):
    mlps: eqx.nn.MLP

    def __init__(self, size, key):
        keys = jr.split(key, 10)
        make_mlp = lambda k: eqx.nn.MLP(size, size, size, 1, key=k)  # noqa: E731
        self.mlps = eqx.filter_vmap(make_mlp)(keys)

    def __call__(self, x):
        dynamic_mlps, static_mlps = eqx.partition(self.mlps, eqx.is_array)

        def f(_x, _dynamic_mlp):
            mlp = eqx.combine(_dynamic_mlp, static_mlps)
            return mlp(_x), None

        out, _ = lax.scan(f, x, dynamic_mlps)
        return out


def test_scan_over_layers():
    size = 3
    model_key, data_key = jr.split(jr.PRNGKey(0), 2)
    model = TenMLPs(size, model_key)
    x = jr.normal(data_key, (size,))
    out = model(x)
    assert model.mlps.layers[0].weight.shape == (10, size, size)
    # the same as applying the ten MLPs one after another
    expected = x
    for k in jr.split(model_key, 10):
        expected = eqx.nn.MLP(size, size, size, 1, key=k)(expected)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eqx.filter_jit(model)(x), out, rtol=1e-5, atol=1e-6)
    grads = eqx.filter_grad(lambda m: jnp.sum(m(x)))(model)
    assert grads.mlps.layers[0].weight.shape == (10, size, size)


def test_optax_training_with_filter_value_and_grad():
    class Model(eqx.Module):
        layers: list

        def __init__(self, key):
            k1, k2 = jr.split(key)
            self.layers = [
                eqx.nn.Linear(2, 8, key=k1),
                jax.nn.tanh,
                eqx.nn.Linear(8, 2, key=k2),
            ]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    model = Model(jr.PRNGKey(3))
    optim = optax.adam(3e-2)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    x, y = _data(jr.PRNGKey(4))

    @eqx.filter_jit
    def train_step(model, x, y, opt_state):
        loss, grad = eqx.filter_value_and_grad(_loss)(model, x, y)
        updates, opt_state = optim.update(
            grad, opt_state, eqx.filter(model, eqx.is_array)
        )
        return eqx.apply_updates(model, updates), opt_state, loss

    losses = []
    with jax.numpy_dtype_promotion("standard"):  # optax's Adam mixes float and int32
        for _ in range(60):
            model, opt_state, loss = train_step(model, x, y, opt_state)
            losses.append(float(loss))
    assert losses[-1] < 0.8 * losses[0]
    assert model.layers[1] is jax.nn.tanh


def test_all_of_equinox_filtered_transformations():
    class NeuralNetwork2(eqx.Module):
        layers: list

        def __init__(self, key):
            key1, key2 = jax.random.split(key)
            self.layers = [
                eqx.nn.Linear(2, 8, key=key1),
                jax.nn.relu,
                eqx.nn.Linear(8, 2, key=key2),
            ]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    x_key, y_key, model_key = jax.random.split(jax.random.PRNGKey(0), 3)
    x, y = jax.random.normal(x_key, (100, 2)), jax.random.normal(y_key, (100, 2))
    model = NeuralNetwork2(model_key)

    @eqx.filter_jit
    @eqx.filter_grad
    def loss(model, x, y):
        pred_y = jax.vmap(model)(x)
        return jax.numpy.mean((y - pred_y) ** 2)

    grads = loss(model, x, y)

    params, static = eqx.partition(model, eqx.is_array)

    @jax.jit
    @jax.grad
    def loss2(params, x, y):
        return jnp.mean((y - jax.vmap(eqx.combine(params, static))(x)) ** 2)

    assert tree_allclose(grads, loss2(params, x, y))
    assert grads.layers[1] is None


def test_per_parameter_wrapper_behind_filter_grad(getkey):
    class Symmetric(eqx.Module):
        matrix: jax.Array

        def get(self):
            return 0.5 * (self.matrix + self.matrix.T)

    def resolve(model):
        is_sym = lambda x: isinstance(x, Symmetric)  # noqa: E731
        return jax.tree_util.tree_map(
            lambda x: x.get() if is_sym(x) else x, model, is_leaf=is_sym
        )

    linear = eqx.nn.Linear(3, 3, key=getkey())
    model = eqx.tree_at(lambda m: m.weight, linear, replace_fn=Symmetric)

    @eqx.filter_grad
    def loss_fn(model, x):
        return jnp.sum(resolve(model)(x) ** 2)

    grads = loss_fn(model, jnp.ones(3))
    assert isinstance(grads.weight, Symmetric)
    assert grads.weight.matrix.shape == (3, 3)
