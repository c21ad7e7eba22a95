"""Contracts written as strings (`from __future__ import annotations`), including a
class that refers to itself."""

from __future__ import annotations

import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

from typedeqx import Module, ShapeError, checked


@checked
class Chain(Module):
    weight: Float[Array, "out in"]
    child: Chain | None = None

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight @ x


def test_string_annotations_are_resolved():
    chain = Chain(jnp.ones((2, 3)), Chain(jnp.ones((1, 1))))
    assert chain(jnp.ones(3)).shape == (2,)
    with pytest.raises(ShapeError, match='expected Float\\[Array, "in"\\] with in=3'):
        chain(jnp.ones(2))
    with pytest.raises(ShapeError, match="field child is 3, expected Chain \\| None"):
        Chain(jnp.ones((2, 3)), 3)
