"""Custom initialisation: redraw the weight of every `Linear` in any model.

Run: `python examples/custom_init.py`. Initialisation is a special case of
surgery: collect every Linear weight with one `where` function and replace them
all at once with `tree_at`, so no `weight_init=` argument has to be threaded
through the model's constructors.
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

import typedeqx as eqx

Init = Callable[[Float[Array, "out in"], PRNGKeyArray], Float[Array, "out in"]]


def trunc_init(
    weight: Float[Array, "out in"], key: PRNGKeyArray
) -> Float[Array, "out in"]:
    """A truncated normal with standard deviation `1/sqrt(in)`, in [-2, 2] sigmas."""
    out, in_ = weight.shape
    stddev = math.sqrt(1 / in_)
    return stddev * jr.truncated_normal(key, -2, 2, (out, in_), weight.dtype)


def is_linear(node: object) -> bool:
    return isinstance(node, eqx.nn.Linear)


def linear_weights(model: PyTree) -> list[Array]:
    """Every Linear's weight, in the model's flattening order."""
    leaves = jax.tree_util.tree_leaves(model, is_leaf=is_linear)
    return [node.weight for node in leaves if is_linear(node)]


def init_linear_weight(model: PyTree, init_fn: Init, key: PRNGKeyArray) -> PyTree:
    """`model` with every Linear weight redrawn by `init_fn`."""
    weights = linear_weights(model)
    keys = jr.split(key, len(weights))
    new_weights = [init_fn(w, k) for w, k in zip(weights, keys, strict=True)]
    return eqx.tree_at(linear_weights, model, new_weights)


def main() -> None:
    model_key, init_key = jr.split(jr.PRNGKey(0))
    model = {"encoder": eqx.nn.MLP(8, 8, 32, 2, key=model_key), "scale": jnp.ones(())}
    new_model = init_linear_weight(model, trunc_init, init_key)
    for old, new in zip(linear_weights(model), linear_weights(new_model), strict=True):
        bound = 2 / math.sqrt(old.shape[1])
        assert new.shape == old.shape and float(jnp.max(jnp.abs(new))) <= bound
        print(f"{old.shape}: std {float(old.std()):.3f} -> {float(new.std()):.3f}")
    print("the rest of the model is unchanged:", new_model["scale"] is model["scale"])


if __name__ == "__main__":
    main()
