"""Model surgery: replace the last layer of an MLP with `tree_at`.

Run: `python examples/surgery.py`. The MLP is a PyTree, so "surgery" is an
out-of-place edit: `tree_at` returns a new model with one node replaced. The new
layer may have another width; each layer's shape contract checks its own input,
so a mismatch is reported at the layer that received it.
"""

import jax.numpy as jnp
import jax.random as jr

import typedeqx as eqx


def main() -> None:
    mlp_key, head_key, bad_key = jr.split(jr.PRNGKey(0), 3)
    mlp = eqx.nn.MLP(in_size=4, out_size=3, width_size=16, depth=2, key=mlp_key)
    print("before:", mlp.layers[-1])

    # A new final layer with 10 outputs: the rest of the MLP is untouched.
    new_head = eqx.nn.Linear(16, 10, key=head_key)
    mlp10 = eqx.tree_at(lambda m: m.layers[-1], mlp, new_head)
    x = jnp.ones(4)
    print("after: ", mlp10.layers[-1], "->", mlp10(x).shape)
    assert mlp10(x).shape == (10,)
    assert mlp.layers[-1].out_features == 3  # the original model is unchanged

    # The wrong input width for the new head: caught at the head, with its path.
    wrong = eqx.tree_at(lambda m: m.layers[-1], mlp, eqx.nn.Linear(8, 10, key=bad_key))
    try:
        wrong(x)
    except eqx.ShapeError as error:
        print("\ncaught:", error)


if __name__ == "__main__":
    main()
