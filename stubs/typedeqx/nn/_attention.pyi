from collections.abc import Callable
from typing import Any, Final, TypeAlias

import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .. import Module
from . import Linear
from ._dropout import Dropout

_ArrayIn: TypeAlias = Array | np.ndarray[Any, Any]
ProcessHeads: TypeAlias = Callable[[Array, Array, Array], tuple[Array, Array, Array]]

class MultiheadAttention(Module):
    query_proj: Final[Linear]
    key_proj: Final[Linear]
    value_proj: Final[Linear]
    output_proj: Final[Linear]
    dropout: Final[Dropout]
    num_heads: Final[int]
    query_size: Final[int]
    key_size: Final[int]
    value_size: Final[int]
    output_size: Final[int]
    qk_size: Final[int]
    vo_size: Final[int]
    use_query_bias: Final[bool]
    use_key_bias: Final[bool]
    use_value_bias: Final[bool]
    use_output_bias: Final[bool]
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
    ) -> None: ...
    def __call__(
        self,
        query: Float[_ArrayIn, "q_seq query_size"],
        key_: Float[_ArrayIn, "kv_seq key_size"],
        value: Float[_ArrayIn, "kv_seq value_size"],
        mask: Bool[_ArrayIn, "q_seq kv_seq"]
        | Bool[_ArrayIn, "num_heads q_seq kv_seq"]
        | None = None,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
        process_heads: ProcessHeads | None = None,
    ) -> Array: ...

def attention_weights(
    query: Float[Array, "q_seq qk_size"],
    key_: Float[Array, "kv_seq qk_size"],
    mask: Bool[Array, "q_seq kv_seq"] | None,
) -> Array: ...
