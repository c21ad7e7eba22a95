"""`filter_checkpoint`: rematerialise a function's intermediates in the backward
pass (gradient checkpointing), with arbitrary PyTrees in and out."""

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

import jax

from ._split import pack, split_tree, unpack
from ._wrapper_base import TransformWrapper

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _CheckpointWrapper(TransformWrapper):
    def __init__(
        self,
        fun: Callable[..., Any],
        prevent_cse: bool,
        policy: Callable[..., bool] | None,
    ) -> None:
        super().__init__(fun, (prevent_cse, policy))
        self._fun = fun
        self._prevent_cse = prevent_cse
        self._policy = policy

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        dynamic, split = split_tree((args, kwargs))

        def call(arrays: list[Any]) -> Any:
            a, k = split.rebuild(arrays)
            return pack(self._fun(*a, **k))

        remat = jax.checkpoint(call, prevent_cse=self._prevent_cse, policy=self._policy)
        return unpack(remat(dynamic))


@overload
def filter_checkpoint(
    *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]: ...


@overload
def filter_checkpoint(
    fun: Callable[_P, _T],
    *,
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
) -> Callable[_P, _T]: ...


def filter_checkpoint(
    fun: Callable[..., Any] | None = None,
    *,
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
) -> Any:
    """Gradient checkpointing (`jax.checkpoint`) where arrays are the traced inputs
    and every other leaf is passed through.

    **Arguments:**

    - `fun`: the function whose intermediates are recomputed rather than stored
        for the backward pass. May be omitted, to use `filter_checkpoint(...)` as a
        decorator.
    - `prevent_cse`: stop XLA from merging the recomputation with the forward pass
        (as in `jax.checkpoint`).
    - `policy`: which intermediates may be saved, one of `jax.checkpoint_policies`.

    **Returns:**

    A function computing the same outputs (any PyTree) as `fun`.
    """
    if fun is None:
        return lambda f: filter_checkpoint(f, prevent_cse=prevent_cse, policy=policy)
    return _CheckpointWrapper(fun, prevent_cse, policy)
