# ruff: noqa: E501, E731, E741, B008
# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# pyright: standard, reportUnnecessaryTypeIgnoreComment=error
"""The programs of the post "Equinox and Friends" (Equinox, optax, jaxtyping) as
written there, checked as unannotated user code (see
check_user_code_equinox_tricks.py). Changes:
the second `Model` is pseudo-code in the post (an empty `__init__`, a `dropout`
layer); it is completed with a small dropout module. typeguard is not installed, so
the jaxtyping example uses beartype, which the post names as an alternative. The
snippets that use a model outside a function get one."""

from typing import Any

import jax
import jax.numpy as jnp
import optax  # type: ignore[import-untyped]  # optax ships no type information
from beartype import beartype as typechecker
from jax import random
from jaxtyping import Array, Float, Scalar, jaxtyped

import typedeqx as eqx


def generate_polynomial_data(
    key,
    coefficients=jnp.array([1, -2, 3]),
    n_samples=100,
):
    """Generate polynomial data."""
    key, subkey = random.split(key, 2)
    X = jnp.linspace(-10, 10, n_samples)
    y = jnp.polyval(coefficients, X) + random.normal(subkey, shape=(n_samples,))
    return X.reshape(-1, 1), y.reshape(-1, 1), key


key = random.key(21)
X, y, key = generate_polynomial_data(
    key, coefficients=jnp.array([1, -2, 1, -2]), n_samples=1_000
)
# standardize data
X_norm = (X - X.mean()) / X.std()
y_norm = (y - y.mean()) / y.std()

print(f"X shape: {X.shape} - X dtype: {X.dtype}")
print(f"y shape: {y.shape} - y dtype: {y.dtype}")


def forward(params, x):
    """Forward pass of function."""
    x = jax.nn.tanh(jnp.dot(x, params["W1"]) + params["b1"])
    return jnp.dot(x, params["W2"]) + params["b2"]


class Model(eqx.Module):
    layers: list[Any]

    def __init__(self, in_dim, out_dim, key):
        key1, key2 = random.split(key, 2)
        self.layers = [
            eqx.nn.Linear(in_dim, out_dim, use_bias=True, key=key1),
            jax.nn.tanh,
            eqx.nn.Linear(out_dim, 1, use_bias=True, key=key2),
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def mse(model, x, y):
    y_pred = jax.vmap(model)(x)
    return jnp.mean((y - y_pred) ** 2)


class Dropout(eqx.Module):
    p: float = 0.5

    def __call__(self, x, inference=False, key=None):
        if inference or key is None:
            return x
        keep = random.bernoulli(key, 1 - self.p, x.shape)
        return jnp.where(keep, x / (1 - self.p), 0)


class DropoutModel(eqx.Module):
    layer: eqx.nn.Linear
    dropout: Dropout

    def __init__(self):
        # layers initialization
        self.layer = eqx.nn.Linear(5, 5, key=random.key(0))
        self.dropout = Dropout()

    def __call__(self, x, inference=False, key=None):
        # x is of shape (num_features,)
        x = self.layer(x)
        x = self.dropout(x, inference=inference, key=key)
        return x


# Create sample input with size (batch_size, num_features)
x_batch = jnp.ones((32, 5))
# Create a random key for each data sample in our batch
key = random.key(21)
keys_batch = random.split(key, 32)
keys_batch = jnp.array(keys_batch)

dropout_model = DropoutModel()
# Vectorize over the x and keys arguments, but not the inference argument
predicted_batch = jax.vmap(dropout_model, in_axes=(0, None, 0))(
    x_batch, False, keys_batch
)

max_norm = 100.0
learning_rate = 1e-3

my_optimizer = optax.chain(
    optax.clip_by_global_norm(max_norm),
    optax.scale_by_adam(eps=1e-4),
    optax.scale(-learning_rate),
)

optim = optax.sgd(learning_rate=0.01)
model = Model(1, 8, random.key(0))
# optax annotates parameters as `optax.Params` (nested arrays, sequences and
# mappings), which pyright holds a Module not to be; mypy sees optax as untyped.
opt_state = optim.init(eqx.filter(model, eqx.is_array))  # pyright: ignore[reportArgumentType]
grad = eqx.filter_grad(mse)(model, X_norm, y_norm)
updates, opt_state = optim.update(grad, opt_state, eqx.filter(model, eqx.is_array))  # pyright: ignore[reportArgumentType]
model = eqx.apply_updates(model, updates)


def train(model, optim, x, y, num_epochs, log_rate):
    """Train the model."""
    losses = []
    opt_state = optim.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def train_step(model, x, y, opt_state):
        """Single training step."""
        loss, grad = eqx.filter_value_and_grad(mse)(model, x, y)
        # simple way
        # model = jax.tree.map(lambda p, g: p - 0.01 * g if g is not None else p, model, grad)
        # using equinox
        # updates = jax.tree.map(lambda g: -0.01 * g, grad)
        # model = eqx.apply_updates(model, updates)
        # using optax
        updates, opt_state = optim.update(
            grad, opt_state, eqx.filter(model, eqx.is_array)
        )
        model = eqx.apply_updates(model, updates)
        return model, loss

    for i in range(num_epochs):
        model, loss = train_step(model, x, y, opt_state)
        if (i % log_rate) == 0:
            print(f"Epoch [{i}/{num_epochs}] | Train Loss: {loss:.3f}")
        losses.append(loss)
    return model, losses


model, losses = train(model, optim, X_norm, y_norm, num_epochs=2, log_rate=1)


@jaxtyped(typechecker=typechecker)
def typed_mse(
    model: Model, x: Float[Array, "batch_size 1"], y: Float[Array, "batch_size 1"]
) -> Scalar:
    y_pred = jax.vmap(model)(x)
    return jnp.mean((y - y_pred) ** 2)


typed_mse(model, X_norm, y_norm)
