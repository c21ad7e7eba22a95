"""`AbstractVar` and `AbstractClassVar`: members a subclass must provide.

An abstract class declares `x: AbstractVar[int]`; a concrete subclass provides `x`
as a field, a class attribute or a property. `AbstractClassVar[T]` must be provided
as a `ClassVar` or class attribute. Instantiating a class that leaves one unresolved
is an error naming it.
"""

import re
import typing
from typing import Any, Generic, Literal, TypeVar

from .._errors import ModuleError

_T = TypeVar("_T")

Kind = Literal["AbstractVar", "AbstractClassVar"]


class AbstractVar(Generic[_T]):
    """Annotation: an instance member of type `T` that concrete subclasses provide."""


class AbstractClassVar(Generic[_T]):
    """Annotation: a class member of type `T` that concrete subclasses provide."""


_STRING_FORM = re.compile(r"^(?:[\w.]+\.)?(AbstractVar|AbstractClassVar)(?:\[|$)")
_CLASSVAR_STRING = re.compile(r"^(?:[\w.]+\.)?ClassVar(?:\[|$)")


def abstract_kind(annotation: Any) -> Kind | None:
    """Which abstract marker `annotation` is, if any (also for string annotations)."""
    if isinstance(annotation, str):
        match = _STRING_FORM.match(annotation.strip())
        return typing.cast(Kind, match.group(1)) if match else None
    origin = typing.get_origin(annotation) or annotation
    if origin is AbstractVar:
        return "AbstractVar"
    if origin is AbstractClassVar:
        return "AbstractClassVar"
    return None


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return _CLASSVAR_STRING.match(annotation.strip()) is not None
    return annotation is typing.ClassVar or typing.get_origin(annotation) is (
        typing.ClassVar
    )


def split_abstract(
    name: str,
    bases: tuple[type, ...],
    namespace: dict[str, Any],
) -> dict[str, Kind]:
    """Remove abstract annotations from `namespace` and return what stays unresolved.

    **Arguments:**

    - `name`: the class being created, for error messages.
    - `bases`: its bases; each may carry `__typedeqx_abstract_vars__`.
    - `namespace`: the class body; its `__annotations__` is edited in place.

    **Returns:**

    Member name -> kind, for every abstract member neither this class nor its bases
    resolve.
    """
    annotations = dict(namespace.get("__annotations__", {}))
    declared: dict[str, Kind] = {}
    for member, annotation in list(annotations.items()):
        kind = abstract_kind(annotation)
        if kind is not None:
            declared[member] = kind
            del annotations[member]
    if declared:
        namespace["__annotations__"] = annotations
    unresolved: dict[str, Kind] = {}
    for base in reversed(bases):
        unresolved.update(getattr(base, "__typedeqx_abstract_vars__", {}))
    for member, kind in list(unresolved.items()):
        if member in annotations or member in namespace:
            _check_resolution(name, member, kind, annotations.get(member))
            del unresolved[member]
    unresolved.update(declared)
    return unresolved


def _check_resolution(cls_name: str, member: str, kind: Kind, annotation: Any) -> None:
    if kind == "AbstractClassVar" and annotation is not None:
        if not _is_classvar(annotation):
            raise ModuleError(
                f"{cls_name}.{member} resolves an AbstractClassVar, so it must be a "
                f"class member: annotate it `ClassVar[...]` (got `{annotation}`)."
            )


def raise_unresolved(cls: type, unresolved: dict[str, Kind]) -> None:
    """Raise the error for instantiating a class with abstract members left."""
    listed = ", ".join(f"{m} ({k})" for m, k in sorted(unresolved.items()))
    raise ModuleError(
        f"Cannot instantiate abstract module {cls.__name__}: it does not provide "
        f"{listed}. Define them in a subclass as fields, class attributes or "
        "properties, and instantiate that subclass."
    )
