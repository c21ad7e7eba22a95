"""`Sequential` and `Lambda`: compose callables into one layer."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import jax.random as jr

from .._module import Module
from .._contracts import checked


@checked
class Lambda(Module):
    """Wraps a plain function as a layer, so that it accepts (and ignores) `key`."""

    fn: Callable[..., Any]

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        """**Arguments:** `x`, the function's input. **Returns:** `fn(x)`."""
        return self.fn(x)


@checked
class Sequential(Module):
    """Calls layers one after another, each on the previous one's output.

    Each layer is called as `layer(x, key=subkey)`; wrap plain functions (such as
    `jax.nn.relu`) in [`Lambda`][].
    """

    layers: tuple[Callable[..., Any], ...]

    def __init__(self, layers: Sequence[Callable[..., Any]]):
        """**Arguments:** `layers`, a sequence of callables `x, *, key -> y`."""
        self.layers = tuple(layers)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        """**Arguments:**

        - `x`: input to the first layer.
        - `key`: optional PRNG key, split into one key per layer.

        **Returns:**

        The last layer's output.
        """
        keys = (
            [None] * len(self.layers)
            if key is None
            else jr.split(key, len(self.layers))
        )
        for layer, subkey in zip(self.layers, keys):
            x = layer(x, key=subkey)
        return x

    @overload
    def __getitem__(self, i: int) -> Callable[..., Any]: ...
    @overload
    def __getitem__(self, i: slice) -> "Sequential": ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return Sequential(self.layers[i])
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return iter(self.layers)
