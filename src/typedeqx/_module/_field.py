"""`field`: declare how a Module field is initialised, converted and flattened."""

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from typing import Any

CONVERTER = "converter"
STATIC = "static"


def field(
    *,
    converter: Callable[[Any], Any] | None = None,
    static: bool = False,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: Any = dataclasses.MISSING,
    metadata: Mapping[Any, Any] | None = None,
) -> Any:
    """Declare a Module field with options beyond a plain annotation.

    **Arguments:**

    - `converter`: called on the value after `__init__` (the generated one or
        yours); its result is what the field holds. Not re-run when a tree is
        unflattened.
    - `static`: keep the value in the PyTree *structure* (the treedef) instead of
        its leaves. Use it for hashable configuration such as sizes and flags, never
        for arrays.
    - `default`, `default_factory`, `init`, `repr`, `hash`, `compare`, `kw_only`,
        `metadata`: as for `dataclasses.field`.

    **Returns:**

    A `dataclasses.Field` carrying the options in its metadata.
    """
    if converter is not None and not callable(converter):
        raise TypeError(
            f"field(converter=...) must be callable; got {type(converter).__name__}."
        )
    meta = dict(metadata or {})
    if converter is not None:
        meta[CONVERTER] = converter
    if static:
        meta[STATIC] = True
    return dataclasses.field(
        default=default,
        default_factory=default_factory,
        init=init,
        repr=repr,
        hash=hash,
        compare=compare,
        kw_only=kw_only,
        metadata=meta,
    )


def static_field(
    *,
    converter: Callable[[Any], Any] | None = None,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: Any = dataclasses.MISSING,
    metadata: Mapping[Any, Any] | None = None,
) -> Any:
    """Deprecated: use `field(static=True, ...)`.

    **Arguments:** the keywords of [`field`][], except `static`.

    **Returns:**

    A static field.
    """
    warnings.warn(
        "`typedeqx.static_field(...)` is deprecated; use "
        "`typedeqx.field(static=True, ...)` instead.",
        UserWarning,
        stacklevel=2,
    )
    return field(
        converter=converter,
        static=True,
        default=default,
        default_factory=default_factory,
        init=init,
        repr=repr,
        hash=hash,
        compare=compare,
        kw_only=kw_only,
        metadata=metadata,
    )
