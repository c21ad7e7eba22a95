"""`BatchNorm`: normalisation by statistics over a named batch axis."""

import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal

import jax
import jax.lax as lax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from .._contracts import argument_error, checked, describe
from .._module import field
from ._layer_errors import unbound_axis
from ._misc import ArrayIn, default_floating_dtype
from ._state_contract import check_state
from ._stateful import State, StatefulLayer, StateIndex, initial_spec
from ._validate import int_at_least, number_at_least

_Stats = tuple[Float[Array, " input_size"], Float[Array, " input_size"]]

# `lax.pmean` is unannotated; this gives it the type used here.
_pmean: Callable[[Array, Any], Array] = lax.pmean
_struct: Callable[..., Any] = jax.ShapeDtypeStruct

_LEGACY_WARNING = (
    "BatchNorm(mode=...) was not given, so it defaults to 'ema' for compatibility "
    "with older Equinox code. 'batch' is usually faster and is recommended for new "
    "code: pass mode='batch' (or mode='ema' to keep this behaviour and silence "
    "this warning). See https://github.com/patrick-kidger/equinox/issues/659."
)


@checked
class BatchNorm(StatefulLayer):
    """Normalises each channel by its mean and variance over the spatial axes and
    over the batch axis named `axis_name`, then optionally applies a channelwise
    affine map.

    It must be called under a `vmap` (or `pmap`) with that `axis_name`, such as
    `filter_vmap(model, axis_name="batch", in_axes=(if_array(0), None))`.

    `mode="batch"` normalises with the batch statistics in training and with
    zero-debiased exponential running averages in inference (as PyTorch and flax
    do). `mode="ema"` normalises with the running averages themselves, which the
    first batch fills in.
    """

    weight: Float[Array, " input_size"] | None
    bias: Float[Array, " input_size"] | None
    ema_first_time_index: StateIndex[Bool[Array, ""]] | None
    ema_state_index: StateIndex[_Stats] | None
    batch_counter: StateIndex[Int[Array, ""]] | None
    batch_state_index: StateIndex[_Stats] | None
    axis_name: Hashable | Sequence[Hashable]
    inference: bool
    input_size: int = field(static=True)
    eps: float = field(static=True)
    channelwise_affine: bool = field(static=True)
    momentum: float = field(static=True)
    mode: Literal["ema", "batch"] = field(static=True)

    def __init__(
        self,
        input_size: int,
        axis_name: Hashable | Sequence[Hashable],
        eps: float = 1e-5,
        channelwise_affine: bool = True,
        momentum: float = 0.99,
        inference: bool = False,
        dtype: DTypeLike | None = None,
        mode: Literal["ema", "batch", "legacy"] = "legacy",
    ):
        """**Arguments:**

        - `input_size`: the number of channels (a positive int).
        - `axis_name`: the name of the batch axis (or a sequence of names), as
            given to `vmap` or `pmap`.
        - `eps`: added to the variance before the square root.
        - `channelwise_affine`: whether to learn a weight and a bias of shape
            `(input_size,)`.
        - `momentum`: decay rate of the running statistics, in `[0, 1)`.
        - `inference`: use the running statistics and leave the state unchanged.
        - `dtype`: floating dtype of the parameters and statistics.
        - `mode`: `"ema"` or `"batch"`; when omitted, `"ema"` with a `UserWarning`.
        """
        if mode == "legacy":
            warnings.warn(_LEGACY_WARNING, UserWarning, stacklevel=2)
            mode = "ema"
        _validate(input_size, mode, eps, momentum)
        dtype = default_floating_dtype() if dtype is None else dtype
        affine = bool(channelwise_affine)
        self.weight = jnp.ones((input_size,), dtype) if affine else None
        self.bias = jnp.zeros((input_size,), dtype) if affine else None
        self.ema_first_time_index = None
        self.ema_state_index = None
        self.batch_counter = None
        self.batch_state_index = None
        if mode == "ema":
            self.ema_first_time_index = StateIndex(jnp.array(True))
            empty = jnp.empty((input_size,), dtype)
            self.ema_state_index = StateIndex((empty, empty))
        else:
            self.batch_counter = StateIndex(jnp.array(0))
            zeros, ones = (
                jnp.zeros((input_size,), dtype),
                jnp.ones((input_size,), dtype),
            )
            self.batch_state_index = StateIndex((zeros, ones))
        self.axis_name = axis_name
        self.inference = inference
        self.input_size = input_size
        self.eps = eps
        self.channelwise_affine = channelwise_affine
        self.momentum = momentum
        self.mode = mode

    def __call__(
        self,
        x: Float[ArrayIn, " input_size *rest"],
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Float[Array, " input_size *rest"], State]:
        """**Arguments:**

        - `x`: one example, of shape `(input_size, dim_1, ..., dim_N)`.
        - `state`: the model's [`State`][], holding the running statistics.
        - `key`: ignored.
        - `inference`: overrides `self.inference` when not `None`.

        **Returns:**

        `(y, state)`: `y` of the same shape as `x`, and the updated state.

        **Raises:**

        - `NameError` (an `UnboundAxisError` that names the layer's path and the
            call that fixes it) when not under a `vmap` or `pmap` with a matching
            `axis_name`.
        - `ShapeError` when `state` lacks this layer's entries (then also a
            `KeyError`), or holds them with other shapes or dtypes than the layer's
            initial state; and when `x`'s dtype is not the statistics' dtype.
        """
        check_state(self, state)
        self._check_dtype(x)
        if inference is None:
            inference = self.inference
        if self.mode == "ema":
            mean, var, state = self._ema(x, state, inference)
        else:
            mean, var, state = self._batch(x, state, inference)
        out = jax.vmap(self._normalise)(x, mean, var, self.weight, self.bias)
        return out, state

    def _check_dtype(self, x: Any) -> None:
        # The running statistics keep their dtype (a State never changes dtype), so
        # an input of another dtype could only fail inside JAX or promote them.
        index = self.ema_state_index if self.mode == "ema" else self.batch_state_index
        assert index is not None
        dtype = initial_spec(index).leaves[0][1]
        got = jax.dtypes.canonicalize_dtype(x.dtype)
        if got != dtype:
            expected = describe(_struct(x.shape, dtype))
            raise argument_error(
                self,
                "x",
                x,
                expected=expected,
                detail=f"the dtype of the layer's running statistics, {dtype}",
                hint=f"cast the input with x.astype('{dtype}'), or build the layer "
                f"with dtype=jnp.{got}.",
            )

    def _pmean(self, value: Array) -> Array:
        try:
            return _pmean(value, self.axis_name)
        except NameError:
            raise unbound_axis(self, self.axis_name) from None

    def _stats(self, channel: Array) -> tuple[Array, Array]:
        # Equinox's operation order, so that values and gradients are bit-identical:
        # `channel - mean` is computed twice, not reused.
        mean = self._pmean(jnp.mean(channel))
        var = self._pmean(jnp.mean((channel - mean) * jnp.conj(channel - mean)))
        return mean, jnp.maximum(0.0, var)

    def _normalise(
        self, channel: Any, mean: Array, var: Array, w: Array | None, b: Array | None
    ) -> Array:
        out: Array = (channel - mean) / jnp.sqrt(var + self.eps)
        if self.channelwise_affine:
            assert w is not None and b is not None
            out = out * w + b
        return out

    def _ema(self, x: Any, state: State, inference: bool) -> tuple[Any, Any, State]:
        assert self.ema_first_time_index is not None
        assert self.ema_state_index is not None
        if inference:
            mean, var = state.get(self.ema_state_index)
            return mean, var, state
        first = state.get(self.ema_first_time_index)
        state = state.set(self.ema_first_time_index, jnp.array(False))
        batch_mean, batch_var = jax.vmap(self._stats)(x)
        run_mean, run_var = state.get(self.ema_state_index)
        m = self.momentum
        mean = (1 - m) * batch_mean + m * run_mean
        var = (1 - m) * batch_var + m * run_var
        # Selected after both updates, in Equinox's order (the same computation).
        mean = lax.select(first, batch_mean, mean)
        var = lax.select(first, batch_var, var)
        state = state.set(self.ema_state_index, (mean, var))
        return mean, var, state

    def _batch(self, x: Any, state: State, inference: bool) -> tuple[Any, Any, State]:
        assert self.batch_counter is not None
        assert self.batch_state_index is not None
        count = state.get(self.batch_counter)
        run_mean, run_var = state.get(self.batch_state_index)
        m = self.momentum
        if inference:
            # Zero-debiasing: the running averages started at 0 and 1, so after n
            # updates they carry a weight of 1 - m**n on the data. `m ** count` is
            # a weakly typed float32 (float64 with x64), as in Equinox: computed in
            # the statistics' dtype, bfloat16 rounds 0.99 to 0.98828 and the factor
            # is 18% off.
            scale = jnp.where(count == 0, 1, 1 - m**count)
            return run_mean / scale, run_var / scale, state
        mean, var = jax.vmap(self._stats)(x)
        state = state.set(self.batch_counter, count + 1)
        new = (run_mean * m + mean * (1 - m), run_var * m + var * (1 - m))
        state = state.set(self.batch_state_index, new)
        return mean, var, state


def _validate(input_size: Any, mode: Any, eps: Any, momentum: Any) -> None:
    if mode not in ("ema", "batch"):
        raise ValueError(f"BatchNorm(mode=...) must be 'ema' or 'batch'; got {mode!r}.")
    int_at_least("BatchNorm", "input_size", input_size, 1, "a positive int")
    if not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
        raise ValueError(
            f"BatchNorm(momentum=...) must be a number in [0, 1); got {momentum!r}."
        )
    number_at_least("BatchNorm", "eps", eps, 0)
