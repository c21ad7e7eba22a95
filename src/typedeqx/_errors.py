"""The library's general exception types: `ModuleError`, `TreeError`,
`TransformError`, `UndeclaredFieldError`, `TreeTypeError` and `FrozenFieldError`.

The other errors typedeqx raises on purpose live next to the machinery that raises
them (each public one with `__module__` set to `typedeqx`, so that tracebacks name
the public module); `tests/test_docstrings.py` checks that this list is complete:

- `ShapeError`: `_contracts/_shape_error.py`.
- `UnresolvedAnnotations` (internal: a forward reference, resolved later):
  `_contracts/_plan.py`.
- `ArgumentTypeError`, `RuleError`: `_transform/_wrapper_base.py`.
- `HostError`, `EquinoxRuntimeError`, `EquinoxTracetimeError`:
  `_runtime_errors/_host.py`.
- `ValueCheckError`: `_values/_error.py`.
- `CheckpointError`: `_serialisation/_error.py`; `RecordError` (internal, turned
  into a `CheckpointError`): `_serialisation/_npy.py`.
- `MissingKeyError`, `UnboundAxisError`: `nn/_layer_errors.py`.
- `MissingStateError`: `nn/_state_contract.py`.
- `_MissingEntry` (the `KeyError` of `State.get`): `nn/_stateful.py`.
"""

import dataclasses


class ModuleError(TypeError):
    """A `Module` was declared, built or mutated in a way the Module contract forbids.

    Raised for: assigning to a field after `__init__`, an `__init__` that leaves a
    field unset, instantiating a class with unresolved abstract members.
    """


class TreeError(ValueError):
    """A tree operation (`tree_at`, `combine`, ...) was given trees or arguments that
    do not fit together."""


class TransformError(ValueError):
    """A filtered transformation was called with arguments it cannot handle: an
    unhashable static leaf under `filter_jit`, `in_axes` that do not fit the
    arguments under `filter_vmap`, a missing argument to differentiate, ..."""


class UndeclaredFieldError(ModuleError, AttributeError):
    """`__init__` assigned an attribute that is not a declared field. (Both a
    `ModuleError` and the `AttributeError` Equinox raises.)"""


class TreeTypeError(TreeError, TypeError):
    """A tree operation was given an argument of the wrong kind, such as one
    replacement where `tree_at` selected several nodes. (Both a `TreeError` and the
    `TypeError` Equinox raises.)"""


for _cls in (
    ModuleError,
    TreeError,
    TransformError,
    UndeclaredFieldError,
    TreeTypeError,
):
    _cls.__module__ = "typedeqx"
del _cls


class FrozenFieldError(dataclasses.FrozenInstanceError):
    """A field of a built `Module` was assigned or deleted. (An `AttributeError`, as
    for frozen dataclasses.)"""


FrozenFieldError.__module__ = "typedeqx"
