"""`clear_caches`: one call empties every cache typedeqx keeps, and JAX's."""

from collections.abc import Callable

import jax

_clear_jax: Callable[[], object] = jax.clear_caches

_clearers: list[Callable[[], object]] = []


def register_cache(clear: Callable[[], object]) -> Callable[[], object]:
    """Record `clear` (for example `some_dict.clear`) to be called by `clear_caches`.

    **Arguments:**

    - `clear`: a function of no arguments that empties one cache.

    **Returns:**

    `clear`, so that this can be used as a decorator.
    """
    _clearers.append(clear)
    return clear


def clear_caches() -> None:
    """Clear all caches typedeqx uses (compiled `filter_jit` functions, memoised
    contracts, ...) and JAX's own compilation caches.

    **Returns:**

    Nothing.
    """
    for clear in _clearers:
        clear()
    _clear_jax()
