"""A low-overhead training loop: pass flat leaves in and out of `filter_jit`.

Run: `python examples/flat_training_loop.py [--steps N]`. Flattening the model and
optimiser state once, outside the loop, and unflattening inside the jitted step
cancels the per-step flatten and unflatten. The loop trains to the same
parameters as the plain loop, which this example checks.
"""

import argparse
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, Scalar

import typedeqx as eqx

OPTIM = optax.adam(1e-2)


def loss_fn(
    model: eqx.nn.MLP, x: Float[Array, "b 1"], y: Float[Array, "b 1"]
) -> Scalar:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def step(model: eqx.nn.MLP, opt_state: Any, x: Array, y: Array) -> Any:
    """One Adam step on the unflattened model and optimiser state."""
    loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
    updates, opt_state = OPTIM.update(grads, opt_state, eqx.filter(model, eqx.is_array))
    return eqx.apply_updates(model, updates), opt_state, loss


plain_step = eqx.filter_jit(step)


def make_flat_step(treedef_model: Any, treedef_state: Any) -> Any:
    @eqx.filter_jit
    def flat_step(
        flat_model: list[Any], flat_state: list[Any], x: Array, y: Array
    ) -> Any:
        model = jax.tree_util.tree_unflatten(treedef_model, flat_model)
        opt_state = jax.tree_util.tree_unflatten(treedef_state, flat_state)
        model, opt_state, loss = step(model, opt_state, x, y)
        return (
            jax.tree_util.tree_leaves(model),
            jax.tree_util.tree_leaves(opt_state),
            loss,
        )

    return flat_step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)

    model_key, data_key = jr.split(jr.PRNGKey(0))
    x = jr.uniform(data_key, (256, 1), minval=-1, maxval=1)
    y = jnp.sin(3 * x)
    model = eqx.nn.MLP(1, 1, 32, 2, activation=jnp.tanh, key=model_key)
    opt_state = OPTIM.init(eqx.filter(model, eqx.is_array))

    flat_model, treedef_model = jax.tree_util.tree_flatten(model)
    flat_state, treedef_state = jax.tree_util.tree_flatten(opt_state)
    flat_step = make_flat_step(treedef_model, treedef_state)
    for i in range(args.steps):
        flat_model, flat_state, loss = flat_step(flat_model, flat_state, x, y)
        if i % max(1, args.steps // 5) == 0:
            print(f"step {i:4d}  loss {float(loss):.4f}")
    trained = jax.tree_util.tree_unflatten(treedef_model, flat_model)

    reference, ref_state = model, opt_state
    for _ in range(args.steps):
        reference, ref_state, _ = plain_step(reference, ref_state, x, y)
    assert eqx.tree_equal(trained, reference, rtol=1e-5, atol=1e-6)
    print(f"final loss {float(loss_fn(trained, x, y)):.4f}; same as the plain loop")


if __name__ == "__main__":
    main()
