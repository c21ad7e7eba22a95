"""Value checks: `checks(values=...)` takes a bool (or None), keyword only;
`ValueCheckError` is a `RuntimeError` with a `path`."""

from typing import assert_type

import typedeqx as eqx

with eqx.checks(values=True):
    pass
with eqx.checks(True, values=None):
    pass
with eqx.checks():
    pass
with eqx.checks(values=1):  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    pass
with eqx.checks(True, True):  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    pass

try:
    pass
except eqx.ValueCheckError as error:
    assert_type(error.path, str | None)
    runtime: RuntimeError = error
