"""Equinox's class keywords and the stub defects found by a held-out probe (issue 22):
each accepted form is inferred, each mistake rejected."""

from typing import Literal, assert_type

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array

import typedeqx as eqx

key = jr.PRNGKey(0)


# `strict=` and `is_abstract=` are Equinox's class keywords.
class Base(eqx.Module, strict=True):
    weight: Array


class Abstract(eqx.Module, is_abstract=True):
    size: int


class Legacy(eqx.Module, strict=eqx.StrictConfig(force_abstract=True)):
    size: int


assert_type(Base(jnp.ones(2)).weight, Array)
assert_type(eqx.StrictConfig(), Literal[False] | None)


# An embedding table is generated from a key or given as `weight=`; without either
# it is a ValueError at run time.
embedding = eqx.nn.Embedding(65, 64, key=key)
assert_type(embedding.weight, Array)
assert_type(eqx.nn.Embedding(weight=jnp.ones((65, 64))).embedding_size, int)
assert_type(eqx.nn.Embedding(None, None, jnp.ones((65, 64))).embedding_size, int)
eqx.nn.Embedding(65, 64)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
eqx.nn.Embedding(65, key=key)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]


# `static_field` takes `field`'s keywords (but `static`), so a misspelt one is caught.
class Config(eqx.Module):
    width: int = eqx.static_field(default=32)


eqx.static_field(defualt=32)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
