# ruff: noqa: B018
"""Module is a dataclass_transform: the generated constructor is typed from the
fields (with `field` as field specifier), a user `__init__` replaces it, and the
fields of prebuilt layers are read-only.

Fields of user modules are not frozen for the checkers (as in Equinox): a frozen
dataclass_transform would reject the `self.x = ...` assignments of every user
`__init__` too. Assigning to them after `__init__` raises `FrozenFieldError` at
runtime."""

from collections.abc import Callable
from typing import ClassVar, assert_type

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones(3)


class Affine(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]
    activation: Callable[[Array], Array] = jax.nn.relu
    name: str = eqx.field(static=True, default="affine")
    tags: list[str] = eqx.field(default_factory=list[str])

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.activation(self.weight @ x + self.bias)


# The generated constructor: fields in order, defaults optional.
affine = Affine(jnp.ones((2, 3)), jnp.ones(2))
assert_type(affine, Affine)
assert_type(
    Affine(weight=jnp.ones((2, 3)), bias=jnp.ones(2), name="a", tags=["t"]), Affine
)
assert_type(affine.weight, Array)
assert_type(affine.name, str)
assert_type(affine.tags, list[str])
assert_type(affine(x), Array)
assert_type(affine == affine, bool)

Affine(jnp.ones((2, 3)))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
Affine(jnp.ones((2, 3)), jnp.ones(2), name=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
Affine(jnp.ones((2, 3)), 1.0)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
Affine(weight=jnp.ones((2, 3)), bias=jnp.ones(2), nmae="a")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
affine.wieght  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
affine(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


class BadDefault(eqx.Module):
    size: int = eqx.field(static=True, default="three")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class Hidden(eqx.Module):
    seen: int
    cache: int = eqx.field(init=False, default=0)
    options: tuple[str, ...] = eqx.field(kw_only=True, default=())


assert_type(Hidden(1, options=("a",)), Hidden)
Hidden(1, 2)  # type: ignore[call-arg, arg-type]  # pyright: ignore[reportCallIssue]
Hidden(1, ("a",))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


# A field with a converter: pyright types the generated constructor's parameter as
# the converter's input, mypy as the field (it does not read converters).
def to_array(value: float) -> Array:
    return jnp.asarray(value)


class Converted(eqx.Module):
    value: Array = eqx.field(converter=to_array)


Converted(1.0)  # type: ignore[arg-type]


# A subclass extends the generated constructor with its own fields.
class Scaled(Affine):
    scale: float = 1.0


assert_type(Scaled(jnp.ones((2, 3)), jnp.ones(2), scale=2.0), Scaled)
Scaled(jnp.ones((2, 3)), jnp.ones(2), scale="2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# A user `__init__` replaces the generated constructor and may assign the fields.
class Encoder(eqx.Module):
    linear: eqx.nn.Linear
    depth: int = eqx.field(static=True)

    def __init__(self, size: int, depth: int, *, key: PRNGKeyArray) -> None:
        self.linear = eqx.nn.Linear(size, size, key=key)
        self.depth = depth

    def __call__(self, x: Array) -> Array:
        for _ in range(self.depth):
            x = self.linear(x)
        return x

    def __check_init__(self) -> None:
        if self.depth < 0:
            raise ValueError("depth must be non-negative")


encoder = Encoder(3, 2, key=key)
assert_type(encoder.linear, eqx.nn.Linear)
assert_type(encoder(x), Array)
Encoder(3, 2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
Encoder(linear=encoder.linear, depth=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


# Fields of the prebuilt layers are read-only.
encoder.linear.weight = jnp.ones((3, 3))  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
encoder.linear.bias = None  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


# Abstract members: `AbstractVar[T]` reads as a `T`, `AbstractClassVar[T]` as a class
# variable of type `T`.
class AbstractNorm(eqx.Module):
    eps: eqx.AbstractVar[float]
    kind: eqx.AbstractClassVar[str]

    def describe(self) -> str:
        return f"{self.kind}(eps={self.eps})"


class LayerNorm(AbstractNorm):
    eps: float
    # pyright decides whether an annotation is a ClassVar from its spelling, so it
    # takes `eqx.AbstractClassVar[str]` for an instance field.
    kind: ClassVar[str] = "layer"  # pyright: ignore[reportIncompatibleVariableOverride]


norm = LayerNorm(1e-5)
assert_type(norm.eps, float)
assert_type(LayerNorm.kind, str)
assert_type(norm.describe(), str)
LayerNorm("small")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# Errors are the library's classes with their builtin bases.
def handle(error: Exception) -> str:
    if isinstance(error, eqx.FrozenFieldError):
        assert_type(error, eqx.FrozenFieldError)
        return "frozen"
    if isinstance(error, eqx.ModuleError):
        return "module: " + str(error.args)
    return "other"


frozen_is_attribute_error: AttributeError = eqx.FrozenFieldError()
module_error_is_type_error: TypeError = eqx.ModuleError()
tree_error_is_value_error: ValueError = eqx.TreeError()
transform_error_is_value_error: ValueError = eqx.TransformError()

assert_type(eqx.__version__, str)
