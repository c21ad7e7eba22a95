"""`MLP`: a stack of `Linear` layers with activations in between."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import Unless, When, checked
from .._filters import is_array
from .._module import Module, field
from .._transform import filter_vmap
from ._linear import Linear
from ._misc import ArrayIn, default_floating_dtype
from ._validate import int_at_least, is_int


def _identity(x: Any) -> Any:
    return x


# Activations act on each unit separately: an activation with parameters (a
# learnt slope, say) gets its own copy per unit and layer, stacked along leading
# axes, and is mapped over the units with its copies.
_apply_each = filter_vmap(lambda fn, x: fn(x))


def _per_unit(fn: Callable[..., Any], *sizes: int) -> Any:
    def make_one() -> Any:
        return fn

    make: Callable[[], Any] = make_one
    for size in reversed(sizes):
        make = filter_vmap(make, axis_size=size)
    return make()


@checked
class MLP(Module):
    """A multi-layer perceptron: `depth` hidden layers of `width_size` units.

    `depth=0` is a single `Linear(in_size, out_size)`. With `scan=True` the
    `depth - 1` hidden-to-hidden layers are one `Linear` with stacked parameters
    (leading axis of size `depth - 1`), applied with `jax.lax.scan`, so that
    compile time does not grow with depth; `layers` is then
    `(input layer, stacked hidden layers, output layer)`.

    `layers` may be replaced by any sequence of callables (`tree_at` surgery);
    each layer checks its own contract.
    """

    layers: tuple[Callable[..., Any], ...] | list[Callable[..., Any]]
    activation: Callable[..., Any]
    final_activation: Callable[..., Any]
    use_bias: bool = field(static=True)
    use_final_bias: bool = field(static=True)
    in_size: int | Literal["scalar"] = field(static=True)
    out_size: int | Literal["scalar"] = field(static=True)
    width_size: int = field(static=True)
    depth: int = field(static=True)
    scan: bool = field(static=True, default=False)

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
        dtype: DTypeLike | None = None,
        *,
        scan: bool = False,
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
        - `scan`: stack the hidden-to-hidden layers and apply them with
            `jax.lax.scan`: the same parameters and outputs, a compile time that
            is flat in `depth`.
        - `key`: PRNG key for the initialisation.

        An activation with parameters gets one copy per unit: `activation` is
        stacked to leading axes `(depth, width_size)` and `final_activation` to
        `(out_size,)` (unless `out_size="scalar"`).
        """
        int_at_least("MLP", "depth", depth, 0)
        if not is_int(width_size):
            raise ValueError(f"MLP(width_size=...) must be an int; got {width_size!r}.")
        dtype = default_floating_dtype() if dtype is None else dtype
        self.layers = _make_layers(
            in_size, out_size, width_size, depth, use_bias, use_final_bias, dtype,
            scan, key,
        )  # fmt: skip
        self.activation = _per_unit(activation, depth, width_size)
        self.final_activation = (
            final_activation
            if out_size == "scalar"
            else _per_unit(final_activation, out_size)
        )
        self.scan = scan
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
        self,
        x: Annotated[Float[ArrayIn, " mlp_in"], Unless("in_size", "scalar")]
        | Annotated[Float[ArrayIn, ""], When("in_size", "scalar")],
        *,
        key: PRNGKeyArray | None = None,
    ) -> (
        Annotated[Float[Array, " mlp_out"], Unless("out_size", "scalar")]
        | Annotated[Float[Array, ""], When("out_size", "scalar")]
    ):
        """**Arguments:**

        - `x`: input of shape `(in_size,)`, or `()` if `in_size="scalar"`.
        - `key`: ignored.

        **Returns:**

        Output of shape `(out_size,)`, or `()` if `out_size="scalar"`.
        """
        if self.depth == 0:
            # As in Equinox 0.13.8: a depth-0 MLP is its one Linear layer, without
            # `final_activation`.
            (only,) = self.layers
            y: Array = only(x)
            return y
        if self.scan:
            first, hidden, last = self.layers
            x = _apply_each(self._activation_at(0), first(x))

            def step(h: Any, i_layer: tuple[Array, Any]) -> tuple[Any, None]:
                i, layer = i_layer
                return _apply_each(self._activation_at(i), layer(h)), None

            steps = (jnp.arange(1, self.depth), hidden)
            x, _ = jax.lax.scan(step, x, steps)
            return self._final(last(x))
        for i, layer in enumerate(self.layers[:-1]):
            x = _apply_each(self._activation_at(i), layer(x))
        return self._final(self.layers[-1](x))

    def _activation_at(self, i: int | Array) -> Any:
        return jtu.tree_map(lambda a: a[i] if is_array(a) else a, self.activation)

    def _final(self, x: Array) -> Array:
        if self.out_size == "scalar":
            y: Array = self.final_activation(x)
            return y
        out: Array = _apply_each(self.final_activation, x)
        return out


def _make_layers(
    in_size: int | Literal["scalar"],
    out_size: int | Literal["scalar"],
    width: int,
    depth: int,
    use_bias: bool,
    use_final_bias: bool,
    dtype: Any,
    scan: bool,
    key: PRNGKeyArray,
) -> tuple[Linear, ...]:
    """The Linear layers of an MLP, keyed by `jr.split(key, depth + 1)` in order.

    **Returns:**

    `depth + 1` layers, or (with `scan` and `depth >= 1`) three: the input layer,
    the `depth - 1` hidden layers stacked along a leading axis, the output layer.
    """
    keys = jr.split(key, depth + 1)
    if depth == 0:
        return (Linear(in_size, out_size, use_final_bias, dtype, key=keys[0]),)
    first = Linear(in_size, width, use_bias, dtype, key=keys[0])
    last = Linear(width, out_size, use_final_bias, dtype, key=keys[-1])

    def hidden(k: PRNGKeyArray) -> Linear:
        return Linear(width, width, use_bias, dtype, key=k)

    if scan:
        return (first, jax.vmap(hidden)(keys[1:depth]), last)
    return (first, *(hidden(keys[i]) for i in range(1, depth)), last)
