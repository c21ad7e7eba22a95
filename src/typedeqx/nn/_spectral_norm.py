"""`SpectralNorm`: divide a layer's weight by its largest singular value."""

from typing import Any, Generic, TypeVar

import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import checked, stand_in
from .._module import field
from .._tree import tree_at
from ._state_contract import check_state
from ._stateful import State, StatefulLayer, StateIndex
from ._validate import int_at_least, number_at_least

_Layer = TypeVar("_Layer")

# Power iterations run at construction, so that the first estimate is good.
_INITIAL_ITERATIONS = 15


def _power_iteration(
    weight: Array, u: Array, v: Array, eps: float
) -> tuple[Array, Array]:
    """One step of the power method for the top singular pair of `weight`.

    **Arguments:**

    - `weight`: a matrix of shape `(m, n)`.
    - `u`, `v`: the current left and right singular vectors, shapes `(m,)`, `(n,)`.
    - `eps`: lower bound on the norms divided by.

    **Returns:**

    The updated `(u, v)`, unit vectors of shapes `(m,)` and `(n,)`.
    """
    u = weight @ v
    u = u / jnp.maximum(eps, jnp.sqrt(jnp.sum(u**2)))
    v = weight.T @ u
    v = v / jnp.maximum(eps, jnp.sqrt(jnp.sum(v**2)))
    return u, v


@checked
class SpectralNorm(StatefulLayer, Generic[_Layer]):
    """Wraps a layer so that one of its weights `W` is used as `W / σ(W)`, where
    `σ(W)` estimates the largest singular value of `W` (reshaped to a matrix
    `(W.shape[0], -1)`) by power iteration.

    In training each call advances the power iteration (stored in the state); in
    inference (`inference=True`, see [`inference_mode`][]) it is left as is.
    """

    layer: _Layer
    weight_name: str = field(static=True)
    uv_index: StateIndex[tuple[Float[Array, " u_size"], Float[Array, " v_size"]]]
    num_power_iterations: int = field(static=True)
    eps: float = field(static=True)
    inference: bool

    def __init__(
        self,
        layer: _Layer,
        weight_name: str,
        num_power_iterations: int = 1,
        eps: float = 1e-12,
        inference: bool = False,
        *,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `layer`: the layer to wrap, such as a `Linear`.
        - `weight_name`: the name of `layer`'s weight, an array of rank >= 2.
        - `num_power_iterations`: power iterations per call in training (>= 0).
        - `eps`: lower bound on the norms divided by.
        - `inference`: whether to leave the power iteration unchanged.
        - `key`: PRNG key for the initial singular vectors (of `weight`'s dtype).
        """
        matrix = _matrix(layer, weight_name)
        _validate(num_power_iterations, eps)
        ukey, vkey = jr.split(key)
        u = jr.normal(ukey, matrix.shape[:1], matrix.dtype)
        v = jr.normal(vkey, matrix.shape[1:], matrix.dtype)
        for _ in range(_INITIAL_ITERATIONS):
            u, v = _power_iteration(matrix, u, v, eps)
        self.layer = layer
        self.weight_name = weight_name
        self.uv_index = StateIndex((u, v))
        self.num_power_iterations = num_power_iterations
        self.eps = eps
        self.inference = inference

    def __call__(
        self,
        x: Any,
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Any, State]:
        """**Arguments:**

        - `x`: the input of the wrapped layer, of the shape that layer takes (it
            checks its own contract).
        - `state`: the model's [`State`][], holding the singular vectors `u` of
            shape `(W.shape[0],)` and `v` of shape `(W.size // W.shape[0],)`.
        - `key`: ignored.
        - `inference`: overrides `self.inference` when not `None`.

        **Returns:**

        `(y, state)`: the wrapped layer's output (its shape) with the normalised
        weight, and the updated state.

        **Raises:**

        `ShapeError` when `state` lacks this layer's singular vectors (then also a
        `KeyError`), or holds them with other shapes or dtypes than its own.
        """
        check_state(self, state)
        if inference is None:
            inference = self.inference
        u, v = state.get(self.uv_index)
        weight = getattr(self.layer, self.weight_name)
        matrix = jnp.reshape(weight, (weight.shape[0], -1))
        if not inference:
            frozen = lax.stop_gradient(matrix)
            for _ in range(self.num_power_iterations):
                u, v = _power_iteration(frozen, u, v, self.eps)
            state = state.set(self.uv_index, (u, v))
        sigma = jnp.einsum("i,ij,j->", u, matrix, v)
        normalised = jnp.reshape(matrix / sigma, weight.shape)
        name = self.weight_name
        layer = tree_at(lambda m: getattr(m, name), self.layer, normalised)
        stand_in(layer, self)  # errors inside it are named from this wrapper
        return layer(x), state


def _matrix(layer: Any, weight_name: Any) -> Array:
    if not isinstance(weight_name, str) or not hasattr(layer, weight_name):
        raise ValueError(
            f"SpectralNorm(weight_name=...) must name an attribute of "
            f"{type(layer).__name__}; got {weight_name!r}."
        )
    weight = getattr(layer, weight_name)
    if jnp.ndim(weight) < 2:
        raise ValueError(
            f"SpectralNorm(weight_name={weight_name!r}): the weight must have rank "
            f">= 2; got shape {jnp.shape(weight)}. Name a matrix or kernel weight."
        )
    return jnp.reshape(weight, (weight.shape[0], -1))


def _validate(num_power_iterations: Any, eps: Any) -> None:
    int_at_least("SpectralNorm", "num_power_iterations", num_power_iterations, 0)
    number_at_least("SpectralNorm", "eps", eps, 0)
