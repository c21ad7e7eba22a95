"""Ensembles: build eight MLPs at once with `filter_vmap`, and evaluate them.

Run: `python examples/ensemble.py`. The ensemble is one MLP whose arrays carry a
leading axis of 8; it is called inside `filter_vmap`, which peels that axis off.
Calling it directly is a shape error that says so.
"""

import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

import typedeqx as eqx

ENSEMBLE_SIZE = 8


@eqx.filter_vmap
def make_ensemble(key: PRNGKeyArray) -> eqx.nn.MLP:
    return eqx.nn.MLP(2, 2, 2, 2, key=key)


@eqx.filter_vmap(in_axes=(eqx.if_array(0), None))
def evaluate_ensemble(model: eqx.nn.MLP, x: Float[Array, "2"]) -> Float[Array, "2"]:
    """Every member on the same input."""
    return model(x)


@eqx.filter_vmap
def evaluate_per_member(model: eqx.nn.MLP, x: Float[Array, "2"]) -> Float[Array, "2"]:
    """Each member on its own input."""
    return model(x)


def main() -> None:
    key = jr.PRNGKey(0)
    ensemble = make_ensemble(jr.split(key, ENSEMBLE_SIZE))
    print("first weight, stacked:", ensemble.layers[0].weight.shape)
    same = evaluate_ensemble(ensemble, jr.normal(key, (2,)))
    per = evaluate_per_member(ensemble, jr.normal(key, (ENSEMBLE_SIZE, 2)))
    print("same input:", same.shape, " per-member input:", per.shape)
    assert same.shape == per.shape == (ENSEMBLE_SIZE, 2)
    try:
        ensemble(jr.normal(key, (2,)))  # forgot to vmap over the members
    except eqx.ShapeError as error:
        print("\ncaught:", error)


if __name__ == "__main__":
    main()
