"""`argument_error`: the one way for a layer to raise its own contract error.

Most contracts are annotations, checked by `@checked`. A few depend on a static
field in a way an annotation cannot say (a scalar input is fine only when
`in_features="scalar"`); the layer checks those itself and raises the error built
here, so that it reads and behaves exactly like one raised by the checker.
"""

from typing import Any

from ._bindings import BoundBy
from ._paths import locate
from ._shape_error import ShapeError, describe


def argument_error(
    module: Any,
    parameter: str,
    value: Any,
    *,
    expected: str,
    detail: str,
    dims: tuple[str, ...] = (),
    hint: str | None = None,
    member: str = "__call__",
) -> ShapeError:
    """A `ShapeError` for an argument of `module`'s method that broke its contract.

    **Arguments:**

    - `module`: the module whose method received the argument.
    - `parameter`: the argument's name.
    - `value`: the value received (described by shape and dtype, never contents).
    - `expected`: the contract as it would be annotated, e.g.
        `'Float[Array, "in_features"]'`.
    - `detail`: what exactly is wrong, e.g. `"got a scalar, expected rank 1"`.
    - `dims`: names of static int fields of `module` that the contract uses; each
        is reported as bound by that static field.
    - `hint`: the likely fix, or `None`.
    - `member`: the method's name.

    **Returns:**

    The error, for the caller to raise.
    """
    bindings = {dim: getattr(module, dim) for dim in dims}
    error = ShapeError(
        owner=type(module).__name__,
        member=member,
        parameter=parameter,
        role="argument",
        expected=expected,
        got=describe(value),
        detail=detail,
        bindings=bindings,
        bound_by={dim: BoundBy("static field", dim) for dim in dims},
        relevant=dims,
        hint=hint,
        origin=module,
    )
    return locate(error)
