"""`filter_eval_shape`: run a function on shapes alone.

Arrays and `jax.ShapeDtypeStruct`s are traced, every other leaf passes through as
it is, and no arithmetic is done. Everything that runs at trace time still runs,
shape checks included, so this is a dry run of a model's shape contracts.
"""

from collections.abc import Callable
from typing import Any

import jax

from ._split import is_traced_or_array, pack, split_tree, unpack


def filter_eval_shape(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The output of `fun(*args, **kwargs)`, with every output array replaced by a
    `jax.ShapeDtypeStruct`, computed without doing any arithmetic.

    **Arguments:**

    - `fun`: any function; it may hold arrays itself (say a bound method).
    - `*args`, `**kwargs`: its arguments. Arrays and `jax.ShapeDtypeStruct`s stand
        for arrays of that shape and dtype; every other leaf is passed as it is.

    **Returns:**

    The output structure: a `jax.ShapeDtypeStruct` (same shape and dtype) for each
    array, and every non-array output leaf as `fun` returned it.

    ```python
    import jax
    import typedeqx

    key = jax.random.key(0)
    model = typedeqx.filter_eval_shape(typedeqx.nn.MLP, 2, 3, 8, 2, key=key)
    weight = model.layers[0].weight  # no weights were made
    assert weight == jax.ShapeDtypeStruct((8, 2), jax.numpy.float32)
    ```
    """
    dynamic, split = split_tree((fun, args, kwargs), is_traced_or_array)

    def call(arrays: list[Any]) -> Any:
        f, a, k = split.rebuild(arrays)
        return pack(f(*a, **k))

    return unpack(jax.eval_shape(call, dynamic))
