"""`MLP`: a stack of `Linear` layers with activations in between."""

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._module import Module, field
from .._contracts import checked
from ._linear import Linear
from ._misc import ArrayIn


def _identity(x: Any) -> Any:
    return x


@checked
class MLP(Module):
    """A multi-layer perceptron: `depth` hidden layers of `width_size` units.

    `depth=0` is a single `Linear(in_size, out_size)`.
    """

    layers: tuple[Linear, ...]
    activation: Callable[..., Any]
    final_activation: Callable[..., Any]
    use_bias: bool = field(static=True)
    use_final_bias: bool = field(static=True)
    in_size: int | Literal["scalar"] = field(static=True)
    out_size: int | Literal["scalar"] = field(static=True)
    width_size: int = field(static=True)
    depth: int = field(static=True)

    def __init__(
        self,
        in_size: int | Literal["scalar"],
        out_size: int | Literal["scalar"],
        width_size: int,
        depth: int,
        activation: Callable[..., Any] = jax.nn.relu,
        final_activation: Callable[..., Any] = _identity,
        use_bias: bool = True,
        use_final_bias: bool = True,
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `in_size`: input size, or `"scalar"` for a 0-dimensional input.
        - `out_size`: output size, or `"scalar"` for a 0-dimensional output.
        - `width_size`: units in each hidden layer.
        - `depth`: number of hidden layers (the MLP has `depth + 1` Linear layers).
        - `activation`: applied after each hidden layer.
        - `final_activation`: applied to the output.
        - `use_bias`: bias in the hidden layers.
        - `use_final_bias`: bias in the last layer.
        - `dtype`: parameter dtype (default float32, or float64 with x64 enabled).
        - `key`: PRNG key for the initialisation.
        """
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ValueError(f"MLP(depth=...) must be an int >= 0; got {depth!r}.")
        keys = jr.split(key, depth + 1)
        sizes = [in_size, *([width_size] * depth), out_size]
        biases = [use_bias] * depth + [use_final_bias]
        self.layers = tuple(
            Linear(sizes[i], sizes[i + 1], biases[i], dtype, key=keys[i])
            for i in range(depth + 1)
        )
        self.activation = activation
        self.final_activation = final_activation
        self.use_bias = use_bias
        self.use_final_bias = use_final_bias
        self.in_size = in_size
        self.out_size = out_size
        self.width_size = width_size
        self.depth = depth

    # The dimension names deliberately differ from the static fields `in_size` and
    # `out_size`: model surgery (`tree_at(lambda m: m.layers[-1], mlp, new_layer)`)
    # may change the sizes the layers work with, and each layer checks its own.
    def __call__(
        self, x: Float[ArrayIn, " mlp_in"] | Float[ArrayIn, ""], *, key: Any = None
    ) -> Float[Array, " mlp_out"] | Float[Array, ""]:
        """**Arguments:**

        - `x`: input of shape `(in_size,)`, or `()` if `in_size="scalar"`.
        - `key`: ignored.

        **Returns:**

        Output of shape `(out_size,)`, or `()` if `out_size="scalar"`.
        """
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        y: Array = self.final_activation(self.layers[-1](x))
        return y
