"""`MultiheadAttention`: scaled dot-product attention over several heads."""

import math
import warnings
from collections.abc import Callable
from typing import Annotated, Any, TypeAlias

import jax
import jax.numpy as jnp
import jax.random as jr
from jax.typing import DTypeLike
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._contracts import Promotes, checked
from .._module import Module, field
from ._dropout import Dropout
from ._linear import Linear
from ._misc import ArrayIn, default_floating_dtype
from ._validate import int_at_least

# Heads are `(seq, num_heads, qk_size)` for queries and keys and
# `(seq, num_heads, vo_size)` for values; `process_heads` maps the three to three
# of the same shapes.
_Heads: TypeAlias = tuple[Array, Array, Array]
ProcessHeads: TypeAlias = Callable[[Array, Array, Array], _Heads]


@checked
class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017, "Attention is All You Need").

    Each head `i` projects the query, key and value sequences (with `W^Q_i`,
    `W^K_i` of `qk_size` outputs and `W^V_i` of `vo_size` outputs), computes
    `softmax(Q_i K_i^T / sqrt(qk_size)) V_i`, and the concatenated heads go through
    an output projection to `output_size` channels. All sizes are configurable;
    biases are off by default.
    """

    query_proj: Linear
    key_proj: Linear
    value_proj: Linear
    output_proj: Linear
    dropout: Dropout
    num_heads: int = field(static=True)
    query_size: int = field(static=True)
    key_size: int = field(static=True)
    value_size: int = field(static=True)
    output_size: int = field(static=True)
    qk_size: int = field(static=True)
    vo_size: int = field(static=True)
    use_query_bias: bool = field(static=True)
    use_key_bias: bool = field(static=True)
    use_value_bias: bool = field(static=True)
    use_output_bias: bool = field(static=True)

    def __init__(
        self,
        num_heads: int,
        query_size: int,
        key_size: int | None = None,
        value_size: int | None = None,
        output_size: int | None = None,
        qk_size: int | None = None,
        vo_size: int | None = None,
        use_query_bias: bool = False,
        use_key_bias: bool = False,
        use_value_bias: bool = False,
        use_output_bias: bool = False,
        dropout_p: float = 0.0,
        inference: bool = False,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `num_heads`: the number of heads, at least 1.
        - `query_size`: channels of the query sequence.
        - `key_size`, `value_size`: channels of the key and value sequences
            (default `query_size`).
        - `output_size`: channels of the output (default `query_size`).
        - `qk_size`: channels per head over which queries and keys are compared
            (default `query_size // num_heads`).
        - `vo_size`: channels per head of the attention-weighted values (default
            `query_size // num_heads`).
        - `use_query_bias`, `use_key_bias`, `use_value_bias`, `use_output_bias`:
            whether each projection has a bias.
        - `dropout_p`: dropout probability on the attention weights, in `[0, 1]`.
        - `inference`: whether to start in inference mode (no dropout); toggled by
            `typedeqx.nn.inference_mode`, overridden per call.
        - `dtype`: floating dtype of the parameters (default float32, or float64
            with x64 enabled).
        - `key`: PRNG key for the initialisation of the four projections.
        """
        _check_positive("num_heads", num_heads)
        key_size = query_size if key_size is None else key_size
        value_size = query_size if value_size is None else value_size
        output_size = query_size if output_size is None else output_size
        qk_size = query_size // num_heads if qk_size is None else qk_size
        vo_size = query_size // num_heads if vo_size is None else vo_size
        sizes = dict(
            query_size=query_size, key_size=key_size, value_size=value_size,
            output_size=output_size, qk_size=qk_size, vo_size=vo_size,
        )  # fmt: skip
        for name, size in sizes.items():
            _check_size(name, size)
        _check_probability(dropout_p)
        dtype = default_floating_dtype() if dtype is None else dtype
        qkey, kkey, vkey, okey = jr.split(key, 4)
        qk_width, vo_width = num_heads * qk_size, num_heads * vo_size
        self.query_proj = Linear(query_size, qk_width, use_query_bias, dtype, key=qkey)
        self.key_proj = Linear(key_size, qk_width, use_key_bias, dtype, key=kkey)
        self.value_proj = Linear(value_size, vo_width, use_value_bias, dtype, key=vkey)
        self.output_proj = Linear(
            vo_width, output_size, use_output_bias, dtype, key=okey
        )
        self.dropout = Dropout(dropout_p, inference=inference)
        self.num_heads = num_heads
        self.query_size, self.key_size = query_size, key_size
        self.value_size, self.output_size = value_size, output_size
        self.qk_size, self.vo_size = qk_size, vo_size
        self.use_query_bias, self.use_key_bias = use_query_bias, use_key_bias
        self.use_value_bias, self.use_output_bias = use_value_bias, use_output_bias

    def __call__(
        self,
        # Each sequence meets its projection's weight first: the dtype contract is
        # stated here, on the argument the user passed, not left to the Linear.
        query: Annotated[
            Float[ArrayIn, "q_seq query_size"], Promotes("query_proj.weight")
        ],
        key_: Annotated[Float[ArrayIn, "kv_seq key_size"], Promotes("key_proj.weight")],
        value: Annotated[
            Float[ArrayIn, "kv_seq value_size"], Promotes("value_proj.weight")
        ],
        mask: Bool[ArrayIn, "q_seq kv_seq"]
        | Bool[ArrayIn, "num_heads q_seq kv_seq"]
        | None = None,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
        process_heads: ProcessHeads | None = None,
    ) -> Float[Array, "q_seq output_size"]:
        """**Arguments:**

        - `query`: the query sequence, of shape `(q_seq, query_size)`.
        - `key_`: the key sequence, of shape `(kv_seq, key_size)`.
        - `value`: the value sequence, of shape `(kv_seq, value_size)`.
        - `mask`: optional boolean mask of shape `(q_seq, kv_seq)`, or
            `(num_heads, q_seq, kv_seq)` for one mask per head; `False` means the
            query may not attend to that position.
        - `key`: PRNG key for dropout; needed only when dropout is active.
        - `inference`: overrides the inference flag for this call.
        - `deterministic`: deprecated spelling of `inference`.
        - `process_heads`: optional function applied to the projected heads, of
            shapes `(q_seq, num_heads, qk_size)`, `(kv_seq, num_heads, qk_size)` and
            `(kv_seq, num_heads, vo_size)`, returning heads of the same shapes (for
            example rotary embeddings, see `RotaryPositionalEmbedding`).

        **Returns:**

        The output sequence, of shape `(q_seq, output_size)`.
        """
        if deterministic is not None:
            inference = deterministic
            warnings.warn(
                "MultiheadAttention()(deterministic=...) is deprecated; use "
                "MultiheadAttention()(inference=...) instead.",
                UserWarning,
                stacklevel=2,
            )
        heads = (
            self._split_heads(self.query_proj, query, self.qk_size),
            self._split_heads(self.key_proj, key_, self.qk_size),
            self._split_heads(self.value_proj, value, self.vo_size),
        )
        if process_heads is not None:
            heads = _processed(process_heads, heads)
        keys = None if key is None else jr.split(key, self.num_heads)
        attend = _HeadAttention(self.dropout, inference)
        if mask is not None and jnp.ndim(mask) == 3:
            attn = jax.vmap(attend, in_axes=(1, 1, 1, 0, 0), out_axes=1)(
                *heads, mask, keys
            )
        else:
            attn = jax.vmap(attend, in_axes=(1, 1, 1, None, 0), out_axes=1)(
                *heads, mask, keys
            )
        # Explicit sizes: with a zero-length query, `-1` could not be inferred.
        flat = attn.reshape(attn.shape[0], self.num_heads * self.vo_size)
        return jax.vmap(self.output_proj)(flat)

    def _split_heads(self, projection: Linear, x: Any, size: int) -> Array:
        projected = jax.vmap(projection)(x)
        return projected.reshape(projected.shape[0], self.num_heads, size)


class _HeadAttention:
    """Attention of one head, vmapped over heads (with one dropout key each)."""

    def __init__(self, dropout: Dropout, inference: bool | None):
        self.dropout = dropout
        self.inference = inference

    def __call__(
        self, query: Array, key_: Array, value: Array, mask: Any, key: Any
    ) -> Array:
        weights = attention_weights(query, key_, mask)
        dropped = self.dropout(weights, key=key, inference=self.inference)
        return jnp.einsum("qk,kd->qd", dropped, value)


def attention_weights(
    query: Float[Array, "q_seq qk_size"],
    key_: Float[Array, "kv_seq qk_size"],
    mask: Bool[Array, "q_seq kv_seq"] | None,
) -> Float[Array, "q_seq kv_seq"]:
    """Softmax of the scaled dot products of queries and keys, masked positions
    excluded; the softmax runs in at least float32 and is rounded back to the
    input's dtype.

    **Arguments:**

    - `query`: one head's queries, of shape `(q_seq, qk_size)`.
    - `key_`: one head's keys, of shape `(kv_seq, qk_size)`.
    - `mask`: `None`, or a boolean array of shape `(q_seq, kv_seq)`.

    **Returns:**

    The attention weights, of shape `(q_seq, kv_seq)`.
    """
    logits = jnp.einsum("qd,kd->qk", query / math.sqrt(query.shape[-1]), key_)
    if mask is not None:
        logits = jnp.where(mask, logits, _lowest(logits.dtype))
    wide = jnp.float64 if logits.dtype == jnp.float64 else jnp.float32
    return jax.nn.softmax(logits.astype(wide)).astype(logits.dtype)


def _lowest(dtype: Any) -> Any:
    # A masked logit is the lowest finite value, not -inf, so that a fully masked
    # row gives uniform weights rather than NaN. (`jnp.finfo` is untyped.)
    finfo: Any = jnp.finfo
    return finfo(dtype).min


def _processed(process_heads: ProcessHeads, heads: _Heads) -> _Heads:
    new = process_heads(*heads)
    before = tuple(h.shape for h in heads)
    after = tuple(jnp.shape(h) for h in new)
    if before != after:
        raise ValueError(
            "MultiheadAttention(process_heads=...) must return the query, key and "
            f"value heads with their shapes unchanged; got shapes {before} and "
            f"returned {after}."
        )
    return new[0], new[1], new[2]


def _check_positive(name: str, value: Any) -> None:
    int_at_least("MultiheadAttention", name, value, 1, "a positive int")


def _check_size(name: str, value: Any) -> None:
    int_at_least("MultiheadAttention", name, value, 0, "a non-negative int")


def _check_probability(p: Any) -> None:
    if isinstance(p, (int, float)) and not 0 <= p <= 1:
        raise ValueError(
            "MultiheadAttention(dropout_p=...) is a probability and must lie in "
            f"[0, 1]; got {p!r}."
        )
