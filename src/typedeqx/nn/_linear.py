"""`Linear` and `Identity`."""

from typing import Annotated, Any, Literal

import jax.numpy as jnp
import jax.random as jr
from jax.typing import DTypeLike
from jaxtyping import Array, Inexact, PRNGKeyArray, Shaped

from .._contracts import Promotes, Unless, When, checked
from .._module import Module, field
from ._misc import ArrayIn, default_floating_dtype, uniform_fan_in
from ._validate import int_at_least


@checked
class Linear(Module):
    """An affine map `y = W x + b`.

    `in_features` or `out_features` may be `"scalar"`: the input (or output) is then
    a 0-dimensional array instead of a vector, and the matching weight axis has
    size 1.
    """

    weight: Inexact[Array, "out_features in_features"]
    bias: Inexact[Array, " out_features"] | None
    in_features: int | Literal["scalar"] = field(static=True)
    out_features: int | Literal["scalar"] = field(static=True)
    use_bias: bool = field(static=True)

    def __init__(
        self,
        in_features: int | Literal["scalar"],
        out_features: int | Literal["scalar"],
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `in_features`: input size (a non-negative int), or `"scalar"`.
        - `out_features`: output size (a non-negative int), or `"scalar"`.
        - `use_bias`: whether to add a bias vector.
        - `dtype`: floating or complex dtype of the parameters (default float32,
            or float64 with x64 enabled).
        - `key`: PRNG key for the initialisation, uniform in ±1/sqrt(in_features)
            (±1 when `in_features` is 0; real and imaginary parts separately for a
            complex dtype).
        """
        in_size = _size("in_features", in_features)
        out_size = _size("out_features", out_features)
        dtype = default_floating_dtype() if dtype is None else dtype
        wkey, bkey = jr.split(key)
        self.weight = uniform_fan_in(wkey, (out_size, in_size), in_size, dtype)
        self.bias = (
            uniform_fan_in(bkey, (out_size,), in_size, dtype) if use_bias else None
        )
        self.in_features = in_features
        self.out_features = out_features
        self.use_bias = use_bias

    def __call__(
        self,
        x: Annotated[
            Inexact[ArrayIn, " in_features"],
            Unless("in_features", "scalar"),
            Promotes("weight"),
        ]
        | Annotated[
            Inexact[ArrayIn, ""], When("in_features", "scalar"), Promotes("weight")
        ],
        *,
        key: PRNGKeyArray | None = None,
    ) -> (
        Annotated[Inexact[Array, " out_features"], Unless("out_features", "scalar")]
        | Annotated[Inexact[Array, ""], When("out_features", "scalar")]
    ):
        """**Arguments:**

        - `x`: input of shape `(in_features,)`, or `()` if `in_features="scalar"`.
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `(out_features,)`, or `()` if `out_features="scalar"`.
        """
        if self.in_features == "scalar":
            x = jnp.reshape(x, (1,))
        y = self.weight @ x
        if self.bias is not None:
            y = y + self.bias
        if self.out_features == "scalar":
            y = jnp.reshape(y, ())
        return y


def _size(name: str, value: int | str) -> int:
    if value == "scalar":
        return 1
    return int_at_least("Linear", name, value, 0, "a non-negative int or 'scalar'")


@checked
class Identity(Module):
    """Returns its input unchanged. Accepts and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any):
        del args, kwargs

    def __call__(
        self, x: Shaped[ArrayIn, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Shaped[ArrayIn, "*shape"]:
        """**Arguments:** `x`, an array of any shape. **Returns:** `x`."""
        return x
