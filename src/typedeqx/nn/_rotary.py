"""`RotaryPositionalEmbedding`: rotates pairs of channels by position-dependent
angles (RoFormer), so that query-key dot products depend on relative position."""

import functools
from typing import Annotated, Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import Promotes, checked
from .._module import Module, field
from ._misc import ArrayIn, default_floating_dtype
from ._validate import int_at_least


@checked
class RotaryPositionalEmbedding(Module):
    """Rotary positional embedding, as in "RoFormer: Enhanced Transformer with Rotary
    Position Embedding" (Su et al., 2021).

    Channel `i` and channel `i + embedding_size // 2` of position `t` are rotated by
    the angle `t * theta ** (-2 i / embedding_size)`. Typically applied to every
    query head and key head of a `MultiheadAttention`, through its `process_heads`
    argument:

    ```python
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import typedeqx as eqx

    rope = eqx.nn.RotaryPositionalEmbedding(embedding_size=4)
    attention = eqx.nn.MultiheadAttention(2, 8, key=jr.PRNGKey(0))

    def process_heads(query_heads, key_heads, value_heads):
        # heads have shape (seq, num_heads, qk_size): map over the head axis
        per_head = jax.vmap(rope, in_axes=1, out_axes=1)
        return per_head(query_heads), per_head(key_heads), value_heads

    x = jnp.ones((5, 8))
    assert attention(x, x, x, process_heads=process_heads).shape == (5, 8)
    ```
    """

    embedding_size: int = field(static=True)
    theta: float | int = field(static=True)
    dtype: Any = field(static=True)

    def __init__(
        self,
        embedding_size: int,
        theta: float = 10_000.0,
        dtype: DTypeLike | None = None,
    ):
        """**Arguments:**

        - `embedding_size`: the number of channels of each position, a non-negative
            even int.
        - `theta`: the base of the rotation frequencies, positive; larger values
            rotate more slowly with position.
        - `dtype`: the dtype of the precomputed cosines and sines (default float32,
            or float64 with x64 enabled).
        """
        _check_embedding_size(embedding_size)
        if isinstance(theta, bool) or not isinstance(theta, (int, float)) or theta <= 0:
            raise ValueError(
                "RotaryPositionalEmbedding(theta=...) must be a positive number; got "
                f"{theta!r}."
            )
        self.embedding_size = embedding_size
        self.theta = theta
        self.dtype = default_floating_dtype() if dtype is None else dtype

    @staticmethod
    def rotate_half(
        x: Float[Array, "seq_length embedding_size"],
    ) -> Float[Array, "seq_length embedding_size"]:
        """Maps the halves `(a, b)` of the last axis to `(-b, a)`.

        **Arguments:**

        - `x`: an array of shape `(seq_length, embedding_size)`.

        **Returns:**

        An array of shape `(seq_length, embedding_size)`.
        """
        half = x.shape[-1] // 2
        return jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)

    @staticmethod
    def precompute_freqs_cis(
        embedding_size: int, end: int, theta: float, dtype: DTypeLike
    ) -> tuple[Float[Array, "end half_size"], Float[Array, "end half_size"]]:
        """The cosines and sines of the rotation angles of positions `0 .. end-1`.

        **Arguments:**

        - `embedding_size`: the (even) number of channels.
        - `end`: the number of positions.
        - `theta`: the base of the frequencies.
        - `dtype`: the dtype of the result (the angles are computed in the default
            floating dtype, and rounded once at the end).

        **Returns:**

        `(cos, sin)`, each of shape `(end, embedding_size // 2)`.
        """
        exponents = jnp.arange(0.0, embedding_size, 2)[None, :] / embedding_size
        frequencies = 1.0 / (theta**exponents)
        angles = jnp.outer(jnp.arange(float(end)), frequencies)
        return jnp.cos(angles).astype(dtype), jnp.sin(angles).astype(dtype)

    def __call__(
        self,
        x: Annotated[Float[ArrayIn, "seq embedding_size"], Promotes("dtype")],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "seq embedding_size"]:
        """**Arguments:**

        - `x`: an array of shape `(seq, embedding_size)`: one vector per position.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        An array of shape `(seq, embedding_size)` and the dtype of `x`: each position
        rotated by its angles. `x`'s dtype must promote with this layer's `dtype`
        (under strict dtype promotion: be it).
        """
        seq_length = x.shape[0]
        cos, sin = _rotation_table(
            self.embedding_size, seq_length, self.theta, jnp.dtype(self.dtype)
        )
        x = jnp.asarray(x)
        rotated = x * cos + self.rotate_half(x) * sin
        return rotated.astype(x.dtype)


def _check_embedding_size(size: Any) -> None:
    int_at_least(
        "RotaryPositionalEmbedding", "embedding_size", size, 0, "a non-negative int"
    )
    if size % 2 != 0:
        raise ValueError(
            "RotaryPositionalEmbedding(embedding_size=...) must be even, since "
            f"channels are rotated in pairs; got {size}. Use an even size, such as "
            "the qk_size of the attention heads it is applied to."
        )


@functools.lru_cache(maxsize=64)
def _rotation_table(
    embedding_size: int, seq_length: int, theta: float, dtype: jnp.dtype
) -> tuple[Array, Array]:
    # Computed once per configuration as concrete constants, even while tracing, so
    # that a jitted model neither recomputes nor re-traces the table.
    with jax.ensure_compile_time_eval():
        cos, sin = RotaryPositionalEmbedding.precompute_freqs_cis(
            embedding_size, seq_length, theta, dtype
        )
        return jnp.tile(cos, (1, 2)), jnp.tile(sin, (1, 2))
