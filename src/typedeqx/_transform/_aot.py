"""Ahead-of-time compilation for `filter_jit` and `filter_pmap`:
`wrapper.lower(*args).compile()(*args)`.

A [`Lowered`][] and a [`Compiled`][] hold JAX's own stage objects plus two
functions from the wrapper that lowered them: `prepare(args, kwargs)` turns a call
with mixed (array and non-array) arguments into the JAX inputs, checking that it
matches the call that was lowered, and `finish(out)` turns JAX's output back into
what the wrapped function returned.
"""

from collections.abc import Callable
from typing import Any

Prepare = Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, ...]]
Finish = Callable[[Any], Any]


class Compiled:
    """A compiled transformed function, callable with arguments like those it was
    lowered with (same structure, non-array leaves, shapes and dtypes)."""

    def __init__(self, compiled: Any, prepare: Prepare, finish: Finish) -> None:
        self.compiled = compiled
        self._prepare = prepare
        self._finish = finish

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return self._finish(self.compiled(*self._prepare(args, kwargs)))

    def as_text(self) -> str | None:
        """The compiled program as text (as `jax.stages.Compiled.as_text`)."""
        text: str | None = self.compiled.as_text()
        return text


class Lowered:
    """A transformed function lowered for one set of arguments (as
    `jax.stages.Lowered`); `compile()` it to run it."""

    def __init__(self, lowered: Any, prepare: Prepare, finish: Finish) -> None:
        self.lowered = lowered
        self._prepare = prepare
        self._finish = finish

    def as_text(self) -> str:
        """The lowered program (StableHLO) as text."""
        text: str = self.lowered.as_text()
        return text

    def compile(
        self, /, compiler_options: dict[str, str | bool] | None = None
    ) -> Compiled:
        """Compile the lowered program.

        **Arguments:**

        - `compiler_options`: options for the XLA compiler, as for
            `jax.stages.Lowered.compile`.

        **Returns:**

        A [`Compiled`][], callable like the transformed function.
        """
        compiled = self.lowered.compile(compiler_options=compiler_options)
        return Compiled(compiled, self._prepare, self._finish)
