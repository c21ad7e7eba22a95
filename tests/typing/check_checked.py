# ruff: noqa: B018
"""`checked` returns what it decorates, unchanged for the checkers; ShapeError's
attributes are typed; `Batched[M, "name"]` reads as `M`."""

from typing import Any, assert_type

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

import typedeqx as eqx

key = jr.PRNGKey(0)


@eqx.checked
class Affine(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight @ x + self.bias


@eqx.checked
def dot(x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, ""]:
    return x @ y


affine = Affine(jnp.ones((2, 3)), jnp.ones(2))
assert_type(affine, Affine)
assert_type(affine(jnp.ones(3)), Array)
assert_type(dot(jnp.ones(3), jnp.ones(3)), Array)
Affine(jnp.ones((2, 3)))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
dot(jnp.ones(3))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
dot(jnp.ones(3), "y")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.checked(3)  # type: ignore[call-overload]  # pyright: ignore


# A checked class can still be subclassed and used as a type.
@eqx.checked
class Ensemble(eqx.Module):
    members: eqx.Batched[eqx.nn.Linear, "ensemble"]

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, "ensemble out"]:
        def member(linear: eqx.nn.Linear) -> Array:
            return linear(x)

        return eqx.filter_vmap(member)(self.members)


@eqx.filter_vmap
def make_members(key: PRNGKeyArray) -> eqx.nn.Linear:
    return eqx.nn.Linear(3, 2, key=key)


ensemble = Ensemble(make_members(jr.split(key, 4)))
assert_type(ensemble.members, eqx.nn.Linear)
assert_type(ensemble(jnp.ones(3)), Array)
Ensemble(jnp.ones(3))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# ShapeError carries typed attributes for programs and tests.
def report(error: eqx.ShapeError) -> str:
    assert_type(error.path, str)
    assert_type(error.owner, str | None)
    assert_type(error.member, str)
    assert_type(error.parameter, str)
    assert_type(error.expected, str)
    assert_type(error.got, str)
    assert_type(error.bindings, dict[str, Any])
    assert_type(error.bound_by, dict[str, str])
    assert_type(error.hint, str | None)
    error.nonexistent  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    return f"{error.path}: {error.parameter} is {error.got}"


def is_type_error(error: eqx.ShapeError) -> TypeError:
    return error


try:
    affine(jnp.ones(4))
except eqx.ShapeError as error:
    assert_type(error, eqx.ShapeError)
    report(error)


# Checks are switched with a context manager taking a bool.
with eqx.checks(False):
    affine(jnp.ones(3))
with eqx.checks("off"):  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    pass
