"""`LayerNorm`, `GroupNorm` and `RMSNorm`: normalisation over a whole input."""

import warnings
from collections.abc import Sequence
from typing import Annotated, Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import Divisible, checked, locate_module
from .._module import Module, field
from ._misc import ArrayIn, default_floating_dtype


class _NoState:
    """The default of `state`: no state was passed, so none is returned."""

    def __repr__(self) -> str:
        return "<no state>"


_NO_STATE: Any = _NoState()


def _shape_tuple(owner: str, shape: int | Sequence[int]) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) else shape
    if not isinstance(dims, Sequence) or not all(_is_size(d) for d in dims):
        raise ValueError(
            f"{owner}(shape=...) must be a non-negative int or a sequence of them; "
            f"got {shape!r}."
        )
    return tuple(dims)


def _is_size(d: object) -> bool:
    return isinstance(d, int) and not isinstance(d, bool) and d >= 0


def _check_eps(owner: str, eps: Any) -> None:
    if isinstance(eps, (int, float)) and eps < 0:
        raise ValueError(f"{owner}(eps=...) must be non-negative; got {eps!r}.")


def _compute_dtype(x: Any) -> Any:
    # Statistics of half-precision inputs are computed in (at least) float32.
    with jax.numpy_dtype_promotion("standard"):
        return jnp.result_type(x.dtype, jnp.float32)


def _shape_mismatch(layer: Any, x: Any) -> ValueError:
    # With checks on, `*shape` (bound by the static `shape`) refused this already;
    # with checks off the layer still refuses, as Equinox does, rather than
    # normalising over the wrong axes.
    name = type(layer).__name__
    path, _ = locate_module(layer)
    where = f"{name}.__call__" if path == name else f"{path} ({name}.__call__)"
    return ValueError(
        f"{where}: argument x has shape {tuple(jnp.shape(x))}, expected shape="
        f"{layer.shape}. To normalise over some axes only, jax.vmap over the others."
    )


def _affine(out: Array, weight: Array | None, bias: Array | None, dtype: Any) -> Array:
    if weight is not None:
        out = weight.astype(dtype) * out
    if bias is not None:
        out = out + bias.astype(dtype)
    return out


@checked
class LayerNorm(Module):
    """Normalises the whole input to zero mean and unit variance, then optionally
    scales by `weight` and shifts by `bias` elementwise.

    `(x - mean(x)) / sqrt(var(x) + eps) * weight + bias`. To normalise over only
    some axes, `jax.vmap` over the others.
    """

    shape: tuple[int, ...] = field(static=True)
    eps: float = field(static=True)
    use_weight: bool = field(static=True)
    use_bias: bool = field(static=True)
    weight: Float[Array, "*shape"] | None
    bias: Float[Array, "*shape"] | None

    def __init__(
        self,
        shape: int | Sequence[int],
        eps: float = 1e-5,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: Any = None,
        *,
        elementwise_affine: bool | None = None,
    ):
        """**Arguments:**

        - `shape`: the input's shape (an int for a vector).
        - `eps`: added to the variance for numerical stability (non-negative).
        - `use_weight`: whether to learn an elementwise scale, initialised to ones.
        - `use_bias`: whether to learn an elementwise shift, initialised to zeros.
        - `dtype`: floating dtype of the parameters (default float32, or float64
            with x64 enabled).
        - `elementwise_affine`: deprecated; sets both `use_weight` and `use_bias`.
        """
        self.shape = _shape_tuple("LayerNorm", shape)
        _check_eps("LayerNorm", eps)
        self.eps = eps
        if elementwise_affine is not None:
            use_weight = use_bias = elementwise_affine
            warnings.warn(
                "LayerNorm(elementwise_affine=...) is deprecated; use "
                "LayerNorm(use_weight=..., use_bias=...) instead."
            )
        dtype = default_floating_dtype() if dtype is None else dtype
        self.use_weight = use_weight
        self.use_bias = use_bias
        self.weight = jnp.ones(self.shape, dtype) if use_weight else None
        self.bias = jnp.zeros(self.shape, dtype) if use_bias else None

    def __call__(
        self,
        x: Float[ArrayIn, "*shape"],
        state: Any = _NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "*shape"] | tuple[Float[Array, "*shape"], Any]:
        """**Arguments:**

        - `x`: input of shape `shape`.
        - `state`: ignored and passed through, so that the layer can stand where a
            stateful layer such as `BatchNorm` could (as in Equinox).
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `shape` and the dtype of `x`; with `state`, the pair
        `(output, state)`.
        """
        if jnp.shape(x) != self.shape:  # only with checks off
            raise _shape_mismatch(self, x)
        orig_dtype = x.dtype
        dtype = _compute_dtype(x)
        x = jnp.asarray(x).astype(dtype)
        mean = jnp.mean(x, keepdims=True)
        variance = jnp.maximum(0.0, jnp.var(x, keepdims=True))
        out = (x - mean) * jax.lax.rsqrt(variance + self.eps)
        out = _affine(out, self.weight, self.bias, dtype).astype(orig_dtype)
        return out if state is _NO_STATE else (out, state)


@checked
class RMSNorm(Module):
    """Rescales the whole input by its root mean square (without centring it), then
    optionally scales by `weight` and shifts by `bias` elementwise.

    `x / sqrt(mean(x ** 2) + eps) * weight + bias`.
    """

    shape: tuple[int, ...] = field(static=True)
    eps: float = field(static=True)
    use_weight: bool = field(static=True)
    use_bias: bool = field(static=True)
    weight: Float[Array, "*shape"] | None
    bias: Float[Array, "*shape"] | None

    def __init__(
        self,
        shape: int | Sequence[int],
        eps: float = 1e-5,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: Any = None,
    ):
        """**Arguments:**

        - `shape`: the input's shape (an int for a vector).
        - `eps`: added to the mean square for numerical stability (non-negative).
        - `use_weight`: whether to learn an elementwise scale, initialised to ones.
        - `use_bias`: whether to learn an elementwise shift, initialised to zeros.
        - `dtype`: floating dtype of the parameters (default float32, or float64
            with x64 enabled).
        """
        self.shape = _shape_tuple("RMSNorm", shape)
        _check_eps("RMSNorm", eps)
        self.eps = eps
        dtype = default_floating_dtype() if dtype is None else dtype
        self.use_weight = use_weight
        self.use_bias = use_bias
        self.weight = jnp.ones(self.shape, dtype) if use_weight else None
        self.bias = jnp.zeros(self.shape, dtype) if use_bias else None

    def __call__(
        self,
        x: Float[ArrayIn, "*shape"],
        state: Any = _NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "*shape"] | tuple[Float[Array, "*shape"], Any]:
        """**Arguments:**

        - `x`: input of shape `shape`.
        - `state`: ignored and passed through, so that the layer can stand where a
            stateful layer such as `BatchNorm` could (as in Equinox).
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `shape` and the dtype of `x`; with `state`, the pair
        `(output, state)`.
        """
        if jnp.shape(x) != self.shape:  # only with checks off
            raise _shape_mismatch(self, x)
        orig_dtype = x.dtype
        dtype = _compute_dtype(x)
        x = jnp.asarray(x).astype(dtype)
        out = jax.lax.rsqrt(jnp.mean(x**2) + self.eps) * x
        out = _affine(out, self.weight, self.bias, dtype).astype(orig_dtype)
        return out if state is _NO_STATE else (out, state)


@checked
class GroupNorm(Module):
    """Splits the channels (first axis) into `groups` equal groups, normalises each
    group to zero mean and unit variance, then optionally scales and shifts each
    channel by `weight` and `bias`.
    """

    groups: int = field(static=True)
    channels: int | None = field(static=True)
    eps: float = field(static=True)
    channelwise_affine: bool = field(static=True)
    weight: Float[Array, " channels"] | None
    bias: Float[Array, " channels"] | None

    def __init__(
        self,
        groups: int,
        channels: int | None = None,
        eps: float = 1e-5,
        channelwise_affine: bool = True,
        dtype: Any = None,
    ):
        """**Arguments:**

        - `groups`: the number of groups (a positive int dividing `channels`).
        - `channels`: the number of input channels; may be `None` only when
            `channelwise_affine=False`.
        - `eps`: added to the variance for numerical stability (non-negative).
        - `channelwise_affine`: whether to learn a per-channel scale (ones) and
            shift (zeros).
        - `dtype`: floating dtype of the parameters (default float32, or float64
            with x64 enabled).
        """
        _check_groups(groups, channels, channelwise_affine)
        _check_eps("GroupNorm", eps)
        dtype = default_floating_dtype() if dtype is None else dtype
        self.groups = groups
        self.channels = channels
        self.eps = eps
        self.channelwise_affine = channelwise_affine
        self.weight = jnp.ones(channels, dtype) if channelwise_affine else None
        self.bias = jnp.zeros(channels, dtype) if channelwise_affine else None

    def __call__(
        self,
        x: Annotated[Float[ArrayIn, "channels *spatial"], Divisible(0, "groups")],
        state: Any = _NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> (
        Float[Array, "channels *spatial"]
        | tuple[Float[Array, "channels *spatial"], Any]
    ):
        """**Arguments:**

        - `x`: input of shape `(channels, *spatial)`.
        - `state`: ignored and passed through, so that the layer can stand where a
            stateful layer such as `BatchNorm` could (as in Equinox).
        - `key`: ignored; accepted so that all layers share one calling convention.

        **Returns:**

        Output of shape `(channels, *spatial)` and the dtype of `x`; with `state`,
        the pair `(output, state)`.
        """
        channels, *spatial = jnp.shape(x)
        orig_dtype = x.dtype
        dtype = _compute_dtype(x)
        x = jnp.asarray(x).astype(dtype)
        y = x.reshape(self.groups, channels // self.groups, *spatial)
        axes = tuple(range(1, y.ndim))
        mean = jnp.mean(y, axis=axes, keepdims=True)
        variance = jnp.maximum(0.0, jnp.var(y, axis=axes, keepdims=True))
        out = ((y - mean) * jax.lax.rsqrt(variance + self.eps)).reshape(x.shape)
        if self.weight is not None and self.bias is not None:
            per_channel = (channels,) + (1,) * len(spatial)
            weight = jnp.broadcast_to(self.weight.reshape(per_channel), out.shape)
            bias = jnp.broadcast_to(self.bias.reshape(per_channel), out.shape)
            out = weight.astype(dtype) * out + bias.astype(dtype)
        out = out.astype(orig_dtype)
        return out if state is _NO_STATE else (out, state)


def _check_groups(groups: Any, channels: Any, channelwise_affine: bool) -> None:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ValueError(
            f"GroupNorm(groups=...) must be a positive int; got {groups!r}."
        )
    if channels is None:
        if channelwise_affine:
            raise ValueError(
                "GroupNorm(channels=...) is needed when channelwise_affine=True: "
                "it sizes the per-channel weight and bias."
            )
        return
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 0:
        raise ValueError(
            f"GroupNorm(channels=...) must be a non-negative int or None; got "
            f"{channels!r}."
        )
    if channels % groups != 0:
        raise ValueError(
            f"GroupNorm(groups=...) must divide channels: groups={groups} does not "
            f"divide channels={channels}."
        )
