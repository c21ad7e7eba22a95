# ruff: noqa: E501, E731, E741, B008
# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# pyright: standard, reportUnnecessaryTypeIgnoreComment=error
"""The programs of Equinox's "Tricks" page as written there, with the
`...` placeholders filled in. They are unannotated user code, so they are checked as
such: mypy --strict with untyped definitions allowed (their bodies are still
checked), pyright in standard mode."""

import math

import jax
import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr

import typedeqx as eqx

key = jr.PRNGKey(0)

# --- Performing model surgery ---

mlp = eqx.nn.MLP(2, 2, 8, 2, key=key)
new_final_layer = eqx.nn.Linear(8, 2, key=key)
where = lambda m: m.layers[-1]
new_mlp = eqx.tree_at(where, mlp, new_final_layer)

# --- Custom parameter initialisation ---

linear = eqx.nn.Linear(3, 4, key=key)
new_weight = jax.random.normal(key, (4, 3))
where = lambda l: l.weight
new_linear = eqx.tree_at(where, linear, new_weight)


# The page annotates `key` with `jax.random.PRNGKey`, which is a function, not a type:
# both checkers reject it.
def trunc_init(weight: jax.Array, key: jax.random.PRNGKey) -> jax.Array:  # type: ignore[valid-type]  # pyright: ignore[reportGeneralTypeIssues]
    out, in_ = weight.shape
    stddev = math.sqrt(1 / in_)
    return stddev * jax.random.truncated_normal(
        key, shape=(out, in_), lower=-2, upper=2
    )


def init_linear_weight(model, init_fn, key):
    is_linear = lambda x: isinstance(x, eqx.nn.Linear)
    get_weights = lambda m: [
        x.weight
        for x in jax.tree_util.tree_leaves(m, is_leaf=is_linear)
        if is_linear(x)
    ]
    weights = get_weights(model)
    new_weights = [
        init_fn(weight, subkey)
        for weight, subkey in zip(weights, jax.random.split(key, len(weights)))
    ]
    new_model = eqx.tree_at(get_weights, model, new_weights)
    return new_model


model = eqx.nn.MLP(2, 2, 8, 2, key=key)  # any PyTree
key = jax.random.PRNGKey(0)
new_model = init_linear_weight(model, trunc_init, key)

# --- Custom per-parameter behaviour ---


# Library code
class Symmetric(eqx.Module):
    matrix: jax.Array

    def get(self):
        return 0.5 * (self.matrix + self.matrix.T)


def is_symmetric(x):
    return isinstance(x, Symmetric)


def maybe_symmetric(x):
    if is_symmetric(x):
        return x.get()
    else:
        return x  # leave everything else unchanged


def resolve_symmetric(model):
    return jax.tree_util.tree_map(maybe_symmetric, model, is_leaf=is_symmetric)


# User code
model = eqx.nn.MLP(2, 2, 2, 2, key=key)  # any PyTree
is_linear = lambda x: isinstance(x, eqx.nn.Linear)
get_weights = lambda m: [
    x.weight for x in jax.tree_util.tree_leaves(m, is_leaf=is_linear) if is_linear(x)
]
symmetric_model = eqx.tree_at(get_weights, model, replace_fn=Symmetric)


@eqx.filter_grad
def loss_fn(model, x, y):
    model = resolve_symmetric(model)
    pred_y = jax.vmap(model)(x)
    return jnp.sum((y - pred_y) ** 2)


grads = loss_fn(symmetric_model, jnp.ones((4, 2)), jnp.ones((4, 2)))

# --- Ensembling ---

key = jax.random.PRNGKey(0)
keys = jax.random.split(key, 8)


# Create an ensemble of models
@eqx.filter_vmap
def make_ensemble(key):
    return eqx.nn.MLP(2, 2, 2, 2, key=key)


mlp_ensemble = make_ensemble(keys)


# Evaluate each member of the ensemble on the same data
@eqx.filter_vmap(in_axes=(eqx.if_array(0), None))
def evaluate_ensemble(model, x):
    return model(x)


evaluate_ensemble(mlp_ensemble, jax.random.normal(key, (2,)))


# Evaluate each member of the ensemble on different data
@eqx.filter_vmap
def evaluate_per_ensemble(model, x):
    return model(x)


evaluate_per_ensemble(mlp_ensemble, jax.random.normal(key, (8, 2)))

# --- Low-overhead training loops ---


def dataloader(size):
    while True:
        yield jnp.ones((size, 2)), jnp.ones((size, 2))


@eqx.filter_jit
def make_step(model, opt_state, x, y):
    update_model, update_opt_state = model, opt_state
    return update_model, update_opt_state


model = eqx.nn.MLP(2, 2, 8, 2, key=key)
opt_state = None
for batch_x, batch_y in dataloader(32):
    model, opt_state = make_step(model, opt_state, batch_x, batch_y)
    break


@eqx.filter_jit
def make_flat_step(flat_model, flat_opt_state, x, y):
    model = jax.tree_util.tree_unflatten(treedef_model, flat_model)
    opt_state = jax.tree_util.tree_unflatten(treedef_opt_state, flat_opt_state)
    update_model, update_opt_state = model, opt_state
    flat_update_model = jax.tree_util.tree_leaves(update_model)
    flat_update_opt_state = jax.tree_util.tree_leaves(update_opt_state)
    return flat_update_model, flat_update_opt_state


flat_model, treedef_model = jax.tree_util.tree_flatten(model)
flat_opt_state, treedef_opt_state = jax.tree_util.tree_flatten(opt_state)
for batch_x, batch_y in dataloader(32):
    flat_model, flat_opt_state = make_flat_step(
        flat_model, flat_opt_state, batch_x, batch_y
    )
    break
model = jax.tree_util.tree_unflatten(treedef_model, flat_model)

# --- Improve compilation speed with scan-over-layers ---


class TenMLPs(eqx.Module):
    mlps: eqx.nn.MLP

    def __init__(self, size, key):
        keys = jr.split(key, 10)
        make_mlp = lambda k: eqx.nn.MLP(size, size, size, 1, key=k)
        self.mlps = eqx.filter_vmap(make_mlp)(keys)

    def __call__(self, x):
        dynamic_mlps, static_mlps = eqx.partition(self.mlps, eqx.is_array)

        def f(_x, _dynamic_mlp):
            mlp = eqx.combine(_dynamic_mlp, static_mlps)
            return mlp(_x), None

        out, _ = lax.scan(f, x, dynamic_mlps)
        return out


size = 3
key = jr.PRNGKey(0)
model_key, data_key = jr.split(key, 2)
ten_mlps = TenMLPs(size, model_key)
x = jr.normal(data_key, (size,))
ten_mlps(x)
