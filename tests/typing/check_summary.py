"""Typing of `typedeqx.summary` and its result (checked, not run)."""

from typing import Any, assert_type

import jax.numpy as jnp
import jax.random as jr

import typedeqx

model = typedeqx.nn.Linear(3, 4, key=jr.key(0))
result = typedeqx.summary(model, jnp.zeros(3))
assert_type(result, typedeqx.Summary)
assert_type(result.total_params, int)
assert_type(result.error, Exception | None)
row = result.rows[0]
assert_type(row.path, str)
assert_type(row.params, int | None)
assert_type(row.note, str)
assert_type(str(result), str)
assert_type(result.rich_table(), Any)
typedeqx.summary()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
