"""`LayerNorm`, `GroupNorm` and `RMSNorm`: normalisation over a whole input."""

import warnings
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .._contracts import Divisible, Rank, checked, module_location
from .._module import Module, field
from ._misc import ArrayIn, default_floating_dtype
from ._stateful import NO_STATE
from ._validate import int_at_least, is_int

# A channel axis, then any spatial axes. Equinox indexes `x.shape[0]` first, so a
# rank-0 input is also the `IndexError` it raises there.
_CHANNELS_FIRST = Rank(
    "1", "a channel axis, then any spatial axes", raises=IndexError, at_least=True
)


def _shape_tuple(owner: str, shape: int | Sequence[int]) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) else shape
    if not isinstance(dims, Sequence) or not all(is_int(d) and d >= 0 for d in dims):
        raise ValueError(
            f"{owner}(shape=...) must be a non-negative int or a sequence of them; "
            f"got {shape!r}."
        )
    return tuple(dims)


def _check_eps(owner: str, eps: Any) -> None:
    if isinstance(eps, (int, float)) and eps < 0:
        raise ValueError(f"{owner}(eps=...) must be non-negative; got {eps!r}.")


def _compute_dtype(x: Any) -> DTypeLike:
    # Statistics of half-precision inputs are computed in (at least) float32.
    with jax.numpy_dtype_promotion("standard"):
        return jnp.result_type(x.dtype, jnp.float32)


def _shape_mismatch(layer: Any, x: Any) -> ValueError:
    # With checks on, `*shape` (bound by the static `shape`) refused this already;
    # with checks off the layer still refuses, as Equinox does, rather than
    # normalising over the wrong axes.
    return ValueError(
        f"{module_location(layer)}: argument x has shape {tuple(jnp.shape(x))}, "
        f"expected shape={layer.shape}. To normalise over some axes only, jax.vmap "
        "over the others."
    )


def _affine(
    out: Array, weight: Array | None, bias: Array | None, dtype: DTypeLike
) -> Array:
    if weight is not None:
        out = weight.astype(dtype) * out
    if bias is not None:
        out = out + bias.astype(dtype)
    return out


def _set_elementwise(
    layer: Any,
    owner: str,
    shape: Any,
    eps: Any,
    use_weight: bool,
    use_bias: bool,
    dtype: DTypeLike | None,
) -> None:
    # The configuration LayerNorm and RMSNorm share, checked and set on `layer`
    # inside its __init__: an elementwise weight of ones and bias of zeros.
    layer.shape = _shape_tuple(owner, shape)
    _check_eps(owner, eps)
    layer.eps = eps
    dtype = default_floating_dtype() if dtype is None else dtype
    layer.use_weight = use_weight
    layer.use_bias = use_bias
    layer.weight = jnp.ones(layer.shape, dtype) if use_weight else None
    layer.bias = jnp.zeros(layer.shape, dtype) if use_bias else None


def _normalise_whole(
    layer: Any, x: Any, state: Any, normalise: Callable[[Array, float], Array]
) -> Array | tuple[Array, Any]:
    # The call LayerNorm and RMSNorm share: `normalise(x, eps)` in (at least)
    # float32, then the elementwise affine, in the dtype of `x`.
    if jnp.shape(x) != layer.shape:  # only with checks off
        raise _shape_mismatch(layer, x)
    orig_dtype = x.dtype
    dtype = _compute_dtype(x)
    out = normalise(jnp.asarray(x).astype(dtype), layer.eps)
    out = _affine(out, layer.weight, layer.bias, dtype).astype(orig_dtype)
    return out if state is NO_STATE else (out, state)


def _standardise(x: Array, eps: float) -> Array:
    mean = jnp.mean(x, keepdims=True)
    variance = jnp.maximum(0.0, jnp.var(x, keepdims=True))
    return (x - mean) * jax.lax.rsqrt(variance + eps)


def _rescale(x: Array, eps: float) -> Array:
    return jax.lax.rsqrt(jnp.mean(x**2) + eps) * x


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
        dtype: DTypeLike | None = None,
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
        if elementwise_affine is not None:
            use_weight = use_bias = elementwise_affine
            warnings.warn(
                "LayerNorm(elementwise_affine=...) is deprecated; use "
                "LayerNorm(use_weight=..., use_bias=...) instead.",
                UserWarning,
                stacklevel=2,
            )
        _set_elementwise(self, "LayerNorm", shape, eps, use_weight, use_bias, dtype)

    def __call__(
        self,
        x: Float[ArrayIn, "*shape"],
        state: Any = NO_STATE,
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
        return _normalise_whole(self, x, state, _standardise)


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
        dtype: DTypeLike | None = None,
    ):
        """**Arguments:**

        - `shape`: the input's shape (an int for a vector).
        - `eps`: added to the mean square for numerical stability (non-negative).
        - `use_weight`: whether to learn an elementwise scale, initialised to ones.
        - `use_bias`: whether to learn an elementwise shift, initialised to zeros.
        - `dtype`: floating dtype of the parameters (default float32, or float64
            with x64 enabled).
        """
        _set_elementwise(self, "RMSNorm", shape, eps, use_weight, use_bias, dtype)

    def __call__(
        self,
        x: Float[ArrayIn, "*shape"],
        state: Any = NO_STATE,
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
        return _normalise_whole(self, x, state, _rescale)


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
        dtype: DTypeLike | None = None,
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
        x: Annotated[
            Float[ArrayIn, " channels *spatial"],
            _CHANNELS_FIRST,
            Divisible(0, "groups"),
        ],
        state: Any = NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> (
        Float[Array, " channels *spatial"]
        | tuple[Float[Array, " channels *spatial"], Any]
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
        return out if state is NO_STATE else (out, state)


def _check_groups(groups: Any, channels: Any, channelwise_affine: bool) -> None:
    int_at_least("GroupNorm", "groups", groups, 1, "a positive int")
    if channels is None:
        if channelwise_affine:
            raise ValueError(
                "GroupNorm(channels=...) is needed when channelwise_affine=True: "
                "it sizes the per-channel weight and bias."
            )
        return
    int_at_least("GroupNorm", "channels", channels, 0, "a non-negative int or None")
    if channels % groups != 0:
        raise ValueError(
            f"GroupNorm(groups=...) must divide channels: groups={groups} does not "
            f"divide channels={channels}."
        )
