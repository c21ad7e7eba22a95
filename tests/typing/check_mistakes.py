# ruff: noqa: B018
"""Common mistakes, each rejected before anything runs."""

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

import typedeqx as eqx


class Classifier(eqx.Module):
    mlp: eqx.nn.MLP
    temperature: float = 1.0

    def __call__(self, x: Float[Array, " features"]) -> Float[Array, " classes"]:
        return self.mlp(x) / self.temperature


def make(key: PRNGKeyArray) -> Classifier:
    return Classifier(eqx.nn.MLP(4, 3, 16, 2, key=key))


def loss(model: Classifier, x: Array, y: Array) -> Array:
    return jnp.mean((model(x) - y) ** 2)


@eqx.filter_jit
def make_step(model: Classifier, x: Array, y: Array) -> tuple[Classifier, Array]:
    value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
    updates = eqx.filter(grads, eqx.is_array)
    return eqx.apply_updates(model, updates), value


key = jr.PRNGKey(0)
model = make(key)
x, y = jnp.ones(4), jnp.ones(3)

# A replacement of the wrong type for the node `where` selects: an array for a layer
# (mypy; pyright accepts any replacement, see check_tree_at.py).
eqx.tree_at(lambda m: m.mlp.layers[-1], model, jnp.zeros((3, 16)))  # type: ignore[arg-type, return-value]
eqx.tree_at(lambda m: m.temperature, model, "hot")  # type: ignore[arg-type, return-value]

# A misspelt field: in the constructor, on access, in `where`.
Classifier(mlp=model.mlp, temprature=2.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
model.temprature  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
eqx.tree_at(lambda m: m.temprature, model, 2.0)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownLambdaType]

# A half of `partition` is a Classifier with `None` for the other leaves, not an
# array, and not the other half's replacement.
params, static = eqx.partition(model, eqx.is_array)
jnp.sum(params)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
model(params)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
total: Array = static  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]

# A filter_jit function called with the arguments in the wrong order, or too few.
make_step(x, model, y)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
make_step(model, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
new_model: Classifier = make_step(model, x, y)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]

# Gradients are a Classifier, not an array; the value comes first.
value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
grads.sum()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
value.mlp  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]

# A loss returning (value, aux) needs has_aux=True.


def loss_and_accuracy(model: Classifier, x: Array, y: Array) -> tuple[Array, Array]:
    return loss(model, x, y), jnp.mean(model(x) == y)


eqx.filter_grad(loss_and_accuracy)  # type: ignore[arg-type]  # pyright: ignore

# The PRNG key of a layer is keyword-only.
eqx.nn.Linear(4, 3, True, None, key)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

# A built layer is immutable: copy it with tree_at instead.
model.mlp.layers[0].weight = jnp.zeros((16, 4))  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
