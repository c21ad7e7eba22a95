"""`locate_module`: the full path of a module, for errors a layer raises itself.

A layer that raises an error at run time (Dropout without a key, BatchNorm outside
its named batch axis, a wrong `State`) knows only itself. This finds where it sits
in the user's model the same way a contract error is located (see `_paths.py`): by
walking the Python stack for the outermost module holding it. Only ever called on
an error path.
"""

from typing import Any

from ._paths import locate
from ._shape_error import ShapeError


def locate_module(module: Any) -> tuple[str, Any]:
    """Where `module` sits in the model being called.

    **Arguments:**

    - `module`: the module that is raising an error (usually `self`).

    **Returns:**

    `(path, root)`: the path from the outermost module on the call stack that holds
    `module` (`"Net.blocks[1].norm"`), or the class name alone when none does; and
    that outermost module (`module` itself when none holds it).
    """
    located = _locate_probe(module, "__call__")
    return located.path, located.origin


def module_location(module: Any, member: str = "__call__") -> str:
    """Where `module` sits in the model being called, as a contract error names it:
    `"Net.drop (Dropout.__call__)"`, `"Net.head (WeightNorm > Linear.__call__)"`,
    `"GPT.blocks[*].drop (Dropout.__call__, scanned over 4)"`, or
    `"Dropout.__call__"` when no enclosing module holds it.

    **Arguments:**

    - `module`: the module that is raising an error (usually `self`).
    - `member`: the method it is raising from.

    **Returns:**

    The text to start the error's message with (a colon and the message follow).
    """
    return _locate_probe(module, member)._location()


def _locate_probe(module: Any, member: str) -> ShapeError:
    """An empty error for `module`'s `member`, located as a real one would be."""
    probe = ShapeError(
        owner=type(module).__name__,
        member=member,
        parameter="",
        role="argument",
        expected="",
        got="",
        detail="",
        bindings={},
        bound_by={},
        origin=module,
    )
    return locate(probe)


def located(error: ShapeError) -> ShapeError:
    """Root a `ShapeError` that a layer built itself (its `origin` the layer) where
    the layer sits in the model being called, as the checker roots its own errors
    (through wrappers and scanned stacks). Returns `error`, for `raise`."""
    return locate(error)
