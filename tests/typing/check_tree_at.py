"""tree_at keeps the tree's type, checks `where` against it, and checks the
replacement against the node `where` selects (mypy; pyright widens the node type to
a union with the replacement's, so it accepts any replacement)."""

from collections.abc import Callable
from typing import Any, assert_type

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

import typedeqx as eqx

key = jr.PRNGKey(0)
weight = jnp.ones((3, 3))


class Block(eqx.Module):
    linear: eqx.nn.Linear
    scale: Float[Array, ""]
    activation: Callable[[Array], Array]
    label: str = eqx.field(static=True, default="block")


block = Block(eqx.nn.Linear(3, 3, key=key), jnp.ones(()), jax.nn.relu)
mlp = eqx.nn.MLP(3, 3, 8, 2, key=key)

# `replace`: the result has the tree's type.
assert_type(eqx.tree_at(lambda b: b.scale, block, jnp.zeros(())), Block)
assert_type(eqx.tree_at(lambda b: b.linear.weight, block, weight), Block)
assert_type(
    eqx.tree_at(lambda m: m.layers[-1], mlp, eqx.nn.Linear(8, 3, key=key)), eqx.nn.MLP
)
assert_type(eqx.tree_at(lambda t: t["a"], {"a": 1, "b": 2}, 3), dict[str, int])

# An optional node takes a value or None.
assert_type(eqx.tree_at(lambda b: b.linear.bias, block, jnp.zeros(3)), Block)
assert_type(eqx.tree_at(lambda b: b.linear.bias, block, None), Block)

# A callable node (an activation, a layer) takes any callable.
assert_type(eqx.tree_at(lambda b: b.activation, block, jax.nn.gelu), Block)
assert_type(
    eqx.tree_at(lambda m: m.layers[0], mlp, eqx.nn.Linear(3, 8, key=key)), eqx.nn.MLP
)

# A sequence of nodes takes a sequence of replacements.
assert_type(
    eqx.tree_at(
        lambda m: [x.weight for x in m.layers],
        mlp,
        [layer.weight * 2 for layer in mlp.layers],
    ),
    eqx.nn.MLP,
)
assert_type(
    eqx.tree_at(lambda b: (b.scale, b.linear.weight), block, (jnp.ones(()), weight)),
    Block,
)

# `replace_fn` receives the selected node.
assert_type(
    eqx.tree_at(lambda b: b.linear.weight, block, replace_fn=lambda w: w.T), Block
)
assert_type(
    eqx.tree_at(lambda m: [x.weight for x in m.layers], mlp, replace_fn=jnp.transpose),
    eqx.nn.MLP,
)
assert_type(
    eqx.tree_at(lambda b: b.linear.bias, block, None, is_leaf=lambda x: x is None),
    Block,
)


# `where` is checked against the tree: a misspelt attribute is an error.
eqx.tree_at(lambda b: b.linaer, block, weight)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownLambdaType]
eqx.tree_at(lambda m: m.layers[-1].wieght, mlp, weight)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownLambdaType]


# `replace_fn` must accept the node.
def linear_weight(linear: eqx.nn.Linear) -> Array:
    return linear.weight


def block_scale(block: Block) -> Array:
    return block.scale


eqx.tree_at(block_scale, block, replace_fn=linear_weight)  # type: ignore[misc]  # pyright: ignore
eqx.tree_at(lambda b: b.linear.weight, block, replace_fn=lambda w: w.sizee)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownLambdaType]

# `replace` and `replace_fn` are exclusive; one of them is needed.
eqx.tree_at(lambda b: b.scale, block, jnp.ones(()), replace_fn=jnp.negative)  # type: ignore[call-overload]  # pyright: ignore
eqx.tree_at(lambda b: b.scale, block)  # type: ignore[call-overload]  # pyright: ignore


# The replacement must have the type of the node `where` selects (mypy only: pyright
# solves the node type as the union of both).
eqx.tree_at(lambda b: b.scale, block, 1.0)  # type: ignore[arg-type, return-value]
eqx.tree_at(lambda b: b.linear, block, weight)  # type: ignore[arg-type, return-value]
eqx.tree_at(lambda b: b.activation, block, weight)  # type: ignore[arg-type, return-value]
eqx.tree_at(lambda m: [x.weight for x in m.layers], mlp, ["w", "w"])  # type: ignore[misc]


def any_node(tree: Any) -> Any:
    return tree


# An untyped `where` (the seed programs' style) accepts anything.
assert_type(eqx.tree_at(any_node, block, 1), Block)
