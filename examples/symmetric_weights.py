"""Per-parameter behaviour: make every `Linear` weight symmetric.

Run: `python examples/symmetric_weights.py`. Each weight is wrapped in a small
Module with `tree_at(..., replace_fn=Symmetric)`; the wrapper is resolved inside
the loss, after the `filter_grad` boundary, so gradients reach the raw matrix.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PyTree, Scalar

import typedeqx as eqx


@eqx.checked
class Symmetric(eqx.Module):
    """A square matrix used through its symmetric part."""

    matrix: Float[Array, "n n"]

    def get(self) -> Float[Array, "n n"]:
        return 0.5 * (self.matrix + self.matrix.T)


def is_symmetric(node: object) -> bool:
    return isinstance(node, Symmetric)


def resolve_symmetric(model: PyTree) -> PyTree:
    """Replace every `Symmetric` wrapper by its symmetric matrix."""
    return jax.tree_util.tree_map(
        lambda n: n.get() if is_symmetric(n) else n, model, is_leaf=is_symmetric
    )


def linear_weights(model: PyTree) -> list[Array]:
    is_linear = lambda n: isinstance(n, eqx.nn.Linear)  # noqa: E731
    leaves = jax.tree_util.tree_leaves(model, is_leaf=is_linear)
    return [n.weight for n in leaves if is_linear(n)]


@eqx.filter_grad
def loss_grad(model: PyTree, x: Float[Array, "b 4"], y: Float[Array, "b 4"]) -> Scalar:
    model = resolve_symmetric(model)
    pred = jax.vmap(model)(x)
    return jnp.sum((y - pred) ** 2)


def main() -> None:
    model_key, x_key = jr.split(jr.PRNGKey(0))
    model = eqx.nn.MLP(4, 4, 4, 2, key=model_key)
    symmetric_model = eqx.tree_at(linear_weights, model, replace_fn=Symmetric)
    x = jr.normal(x_key, (16, 4))
    grads = loss_grad(symmetric_model, x, jnp.zeros((16, 4)))
    for layer in grads.layers:
        g = layer.weight.matrix
        print(
            "gradient of a wrapped matrix:", g.shape, "norm", float(jnp.linalg.norm(g))
        )
    resolved = resolve_symmetric(symmetric_model)
    w = resolved.layers[0].weight
    assert bool(jnp.allclose(w, w.T))
    print("resolved weights are symmetric")


if __name__ == "__main__":
    main()
