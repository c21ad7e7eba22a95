"""`GRUCell` and `LSTMCell`: one step of a recurrent network."""

import math
from typing import Annotated, Any

import jax.nn as jnn
import jax.numpy as jnp
import jax.random as jr
from jax.typing import DTypeLike
from jaxtyping import Array, Inexact, PRNGKeyArray

from .._contracts import Promotes, checked
from .._module import Module, field
from ._kernel import init_uniform
from ._misc import ArrayIn, default_floating_dtype
from ._validate import int_at_least

# The input meets `weight_ih` and the state `weight_hh` in a matmul: each must
# promote with its weight (under strict promotion, a bf16 state into an f32 cell
# would otherwise fail inside JAX).
_Input = Annotated[Inexact[ArrayIn, " input_size"], Promotes("weight_ih")]
_Hidden = Annotated[Inexact[ArrayIn, " hidden_size"], Promotes("weight_hh")]


def _check_sizes(owner: str, input_size: Any, hidden_size: Any) -> None:
    sizes = (("input_size", input_size, 0), ("hidden_size", hidden_size, 1))
    for name, value, low in sizes:
        kind = "non-negative" if low == 0 else "positive"
        int_at_least(owner, name, value, low, f"a {kind} int")


def _uniform(
    key: PRNGKeyArray, shape: tuple[int, ...], hidden_size: int, dtype: Any
) -> Array:
    # Uniform in ±sqrt(1/hidden_size), the PyTorch default for recurrent cells;
    # computed as Equinox does (not 1/sqrt(...)), so the same key gives the same
    # bits. A complex dtype draws real and imaginary parts from two keys.
    return init_uniform(key, shape, dtype, math.sqrt(1 / hidden_size))


@checked
class GRUCell(Module):
    """One step of a gated recurrent unit: from an input and the previous hidden
    state, the next hidden state. Scan it over a sequence with `jax.lax.scan`.
    """

    weight_ih: Inexact[Array, "3*hidden_size input_size"]
    weight_hh: Inexact[Array, "3*hidden_size hidden_size"]
    bias: Inexact[Array, "3*hidden_size"] | None
    bias_n: Inexact[Array, " hidden_size"] | None
    input_size: int = field(static=True)
    hidden_size: int = field(static=True)
    use_bias: bool = field(static=True)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `input_size`: size of the input vector (non-negative).
        - `hidden_size`: size of the hidden state (positive).
        - `use_bias`: whether to add biases to the gates.
        - `dtype`: floating or complex dtype of the parameters (default float32,
            or float64 with x64 enabled).
        - `key`: PRNG key for the initialisation, uniform in ±1/sqrt(hidden_size).
        """
        _check_sizes("GRUCell", input_size, hidden_size)
        dtype = default_floating_dtype() if dtype is None else dtype
        ihkey, hhkey, bkey, nkey = jr.split(key, 4)
        gates = 3 * hidden_size
        self.weight_ih = _uniform(ihkey, (gates, input_size), hidden_size, dtype)
        self.weight_hh = _uniform(hhkey, (gates, hidden_size), hidden_size, dtype)
        self.bias = _uniform(bkey, (gates,), hidden_size, dtype) if use_bias else None
        self.bias_n = (
            _uniform(nkey, (hidden_size,), hidden_size, dtype) if use_bias else None
        )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.use_bias = use_bias

    def __call__(
        self,
        input: _Input,
        hidden: _Hidden,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " hidden_size"]:
        """**Arguments:**

        - `input`: input of shape `(input_size,)`.
        - `hidden`: previous hidden state of shape `(hidden_size,)`.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        The next hidden state, of shape `(hidden_size,)`.
        """
        i_lin = self.weight_ih @ input
        if self.bias is not None:
            i_lin = i_lin + self.bias
        i_reset, i_update, i_new = jnp.split(i_lin, 3)
        h_reset, h_update, h_new = jnp.split(self.weight_hh @ hidden, 3)
        if self.bias_n is not None:
            h_new = h_new + self.bias_n
        reset = jnn.sigmoid(i_reset + h_reset)
        update = jnn.sigmoid(i_update + h_update)
        new = jnn.tanh(i_new + reset * h_new)
        return new + update * (hidden - new)


@checked
class LSTMCell(Module):
    """One step of a long short-term memory unit: from an input and the previous
    `(hidden, cell)` state, the next one. Scan it over a sequence with
    `jax.lax.scan`.
    """

    weight_ih: Inexact[Array, "4*hidden_size input_size"]
    weight_hh: Inexact[Array, "4*hidden_size hidden_size"]
    bias: Inexact[Array, "4*hidden_size"] | None
    input_size: int = field(static=True)
    hidden_size: int = field(static=True)
    use_bias: bool = field(static=True)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `input_size`: size of the input vector (non-negative).
        - `hidden_size`: size of the hidden and cell states (positive).
        - `use_bias`: whether to add a bias to the gates.
        - `dtype`: floating or complex dtype of the parameters (default float32,
            or float64 with x64 enabled).
        - `key`: PRNG key for the initialisation, uniform in ±1/sqrt(hidden_size).
        """
        _check_sizes("LSTMCell", input_size, hidden_size)
        dtype = default_floating_dtype() if dtype is None else dtype
        ihkey, hhkey, bkey = jr.split(key, 3)
        gates = 4 * hidden_size
        self.weight_ih = _uniform(ihkey, (gates, input_size), hidden_size, dtype)
        self.weight_hh = _uniform(hhkey, (gates, hidden_size), hidden_size, dtype)
        self.bias = _uniform(bkey, (gates,), hidden_size, dtype) if use_bias else None
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.use_bias = use_bias

    def __call__(
        self,
        input: _Input,
        hidden: tuple[_Hidden, _Hidden],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Inexact[Array, " hidden_size"], Inexact[Array, " hidden_size"]]:
        """**Arguments:**

        - `input`: input of shape `(input_size,)`.
        - `hidden`: the previous `(h, c)`: hidden and cell states, each of shape
            `(hidden_size,)`.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        The next `(h, c)`, each of shape `(hidden_size,)`.
        """
        h, c = hidden
        lin = self.weight_ih @ input + self.weight_hh @ h
        if self.bias is not None:
            lin = lin + self.bias
        i_lin, f_lin, g_lin, o_lin = jnp.split(lin, 4)
        c = jnn.sigmoid(f_lin) * c + jnn.sigmoid(i_lin) * jnn.tanh(g_lin)
        h = jnn.sigmoid(o_lin) * jnn.tanh(c)
        return h, c
