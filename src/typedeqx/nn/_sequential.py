"""`Sequential` and `Lambda`: compose callables into one layer."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import jax.random as jr
from jaxtyping import PRNGKeyArray

from .._contracts import checked
from .._module import Module
from ._stateful import NO_STATE, StatefulLayer


@checked
class Lambda(Module):
    """Wraps a plain function as a layer, so that it accepts (and ignores) `key`."""

    fn: Callable[..., Any]

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """**Arguments:** `x`, the function's input. **Returns:** `fn(x)`."""
        return self.fn(x)


@checked
class Sequential(StatefulLayer):
    """Calls layers one after another, each on the previous one's output.

    Each layer is called as `layer(x, key=subkey)`, or as
    `x, state = layer(x, state=state, key=subkey)` when it is a
    [`StatefulLayer`][] whose `is_stateful()` is true. Wrap plain functions (such
    as `jax.nn.relu`) in [`Lambda`][].
    """

    layers: tuple[Callable[..., Any], ...]

    def __init__(self, layers: Sequence[Callable[..., Any]]):
        """**Arguments:** `layers`, a sequence of callables `x, *, key -> y`."""
        self.layers = tuple(layers)

    def is_stateful(self) -> bool:
        """**Returns:** whether any layer is stateful, so that `self` takes a state."""
        return any(_is_stateful(layer) for layer in self.layers)

    def __call__(
        self, x: Any, state: Any = NO_STATE, *, key: PRNGKeyArray | None = None
    ) -> Any:
        """**Arguments:**

        - `x`: input to the first layer.
        - `state`: a [`State`][], passed through the stateful layers; omit it when
            no layer is stateful.
        - `key`: optional PRNG key, split into one key per layer.

        **Returns:**

        The last layer's output; `(output, state)` when `state` was given.
        """
        keys = (
            [None] * len(self.layers)
            if key is None
            else jr.split(key, len(self.layers))
        )
        for i, (layer, subkey) in enumerate(zip(self.layers, keys)):
            if _is_stateful(layer):
                if state is NO_STATE:
                    raise _missing_state(i, layer)
                x, state = layer(x, state=state, key=subkey)
            else:
                x = layer(x, key=subkey)
        return x if state is NO_STATE else (x, state)

    @overload
    def __getitem__(self, i: int) -> Callable[..., Any]: ...
    @overload
    def __getitem__(self, i: slice) -> "Sequential": ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return Sequential(self.layers[i])
        if isinstance(i, int):
            return self.layers[i]
        raise TypeError(
            f"Sequential indices must be int or slice; got {type(i).__name__}."
        )

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return iter(self.layers)


def _is_stateful(layer: Any) -> bool:
    return isinstance(layer, StatefulLayer) and layer.is_stateful()


def _missing_state(i: int, layer: Any) -> ValueError:
    return ValueError(
        f"Sequential.layers[{i}] ({type(layer).__name__}) is stateful, so the "
        "Sequential needs a state: call it as `y, state = seq(x, state)` with the "
        "state from `make_with_state`."
    )
