"""Re-running a Module's field contract on an instance that never went through
`__init__`, such as one unflattened from a checkpoint."""

from typing import Any


def recheck_fields(module: Any) -> bool:
    """Run the field contract of `module`'s class on `module`, as `__init__` does.

    **Arguments:**

    - `module`: a Module instance, typically rebuilt by unflattening.

    **Returns:**

    `True` when the class is `@checked` (its field contract ran and held), `False`
    when the class has no field contract.

    Raises `ShapeError` when a field breaks its annotation.
    """
    check = getattr(type(module), "__typedeqx_check_fields__", None)
    if check is None:
        return False
    check(module)
    return True
