"""Flagship example: fit a cubic with a small checked MLP, optax and filter_jit.

Run: `python examples/train_polynomial.py`. It prints the loss falling, then shows
the shape check catching a batch passed without `jax.vmap`.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, PRNGKeyArray, Scalar

import typedeqx as eqx


def make_data(
    key: PRNGKeyArray, n: int = 1_000
) -> tuple[Float[Array, "n 1"], Float[Array, "n 1"]]:
    """Noisy samples of x^3 - 2x^2 + x - 2 on [-10, 10], standardised."""
    x = jnp.linspace(-10.0, 10.0, n)
    y = jnp.polyval(jnp.array([1.0, -2.0, 1.0, -2.0]), x) + jr.normal(key, (n,))
    x = (x - x.mean()) / x.std()
    y = (y - y.mean()) / y.std()
    return x[:, None], y[:, None]


@eqx.checked
class Model(eqx.Module):
    """Linear -> tanh -> Linear, as in the optax tutorial."""

    layers: list

    def __init__(self, in_dim: int, hidden: int, *, key: PRNGKeyArray):
        k1, k2 = jr.split(key)
        self.layers = [
            eqx.nn.Linear(in_dim, hidden, key=k1),
            jax.nn.tanh,
            eqx.nn.Linear(hidden, 1, key=k2),
        ]

    def __call__(self, x: Float[Array, " in_dim"]) -> Float[Array, "1"]:
        for layer in self.layers:
            x = layer(x)
        return x


def mse(model: Model, x: Float[Array, "batch 1"], y: Float[Array, "batch 1"]) -> Scalar:
    return jnp.mean((y - jax.vmap(model)(x)) ** 2)


def train(model: Model, x: Array, y: Array, steps: int = 2_000) -> Model:
    optim = optax.adam(1e-2)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: Model, opt_state: optax.OptState
    ) -> tuple[Model, optax.OptState, Scalar]:
        loss, grads = eqx.filter_value_and_grad(mse)(model, x, y)
        updates, opt_state = optim.update(
            grads, opt_state, eqx.filter(model, eqx.is_array)
        )
        return eqx.apply_updates(model, updates), opt_state, loss

    for i in range(steps + 1):
        model, opt_state, loss = step(model, opt_state)
        if i % 250 == 0:
            print(f"step {i:5d}   loss {float(loss):.4f}")
    return model


def main() -> None:
    data_key, model_key = jr.split(jr.PRNGKey(21))
    x, y = make_data(data_key)
    model = train(Model(1, 32, key=model_key), x, y)
    print(model)
    try:
        model(x)  # a whole batch, forgetting jax.vmap
    except eqx.ShapeError as e:
        print(f"\nThe shape contract caught a missing vmap:\n  {e}")


if __name__ == "__main__":
    main()
