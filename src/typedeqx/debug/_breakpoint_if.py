"""`breakpoint_if`: `jax.debug.breakpoint`, only when a predicate holds."""

from typing import Any

import jax
from jax import lax

from .._runtime_errors import unbatched_any


def breakpoint_if(pred: Any, **kwargs: Any) -> Any:
    """As `jax.debug.breakpoint`, but only when `pred` is true.

    **Arguments:**

    - `pred`: a boolean array of any shape; the breakpoint triggers if any element
        (of any `vmap` batch element) is true.
    - `**kwargs`: passed on to `jax.debug.breakpoint` (e.g. `token=`, `ordered=`).

    **Returns:**

    What `jax.debug.breakpoint` returns: the `token` keyword argument if one was
    given (to thread through the rest of the computation), else `None`.
    """
    token = kwargs.get("token")

    # `jax.debug.breakpoint` is looked up when the branch is traced, not at import,
    # so that the debugger backend (or a test's stand-in) in effect then is used.
    def trigger() -> Any:
        return jax.debug.breakpoint(**kwargs)

    return lax.cond(unbatched_any(pred), trigger, lambda: token)
