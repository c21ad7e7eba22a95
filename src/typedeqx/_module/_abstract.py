"""`AbstractVar` and `AbstractClassVar`: members a subclass must provide.

An abstract class declares `x: AbstractVar[int]`; a concrete subclass provides `x`
as a field, a class attribute or a property. `AbstractClassVar[T]` must be provided
as a `ClassVar` or class attribute. Instantiating a class that leaves one unresolved
is an error naming it.
"""

import dataclasses
import inspect
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


_ABSENT = object()

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


def _bare_marker(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return _STRING_FORM.match(annotation.strip()) is not None and (
            "[" not in annotation
        )
    return annotation is AbstractVar or annotation is AbstractClassVar


def split_abstract(name: str, namespace: dict[str, Any]) -> dict[str, Kind]:
    """Remove abstract annotations from `namespace` and return them.

    **Arguments:**

    - `name`: the class being created, for error messages.
    - `namespace`: the class body; its `__annotations__` is edited in place.

    **Returns:**

    Member name -> kind, for every abstract member this class body declares.

    **Raises:**

    `ModuleError` (a `TypeError`) for a marker without a type argument
    (`x: AbstractVar`) or an abstract member given a value (`x: AbstractVar[int] = 1`).
    """
    annotations = dict(namespace.get("__annotations__", {}))
    declared: dict[str, Kind] = {}
    for member, annotation in list(annotations.items()):
        kind = abstract_kind(annotation)
        if kind is None:
            continue
        if _bare_marker(annotation):
            raise ModuleError(
                f"{name}.{member} is annotated `{kind}` without a type argument; "
                f"write `{kind}[<type>]`, e.g. `{member}: {kind}[int]`."
            )
        if member in namespace:
            raise ModuleError(
                f"{name}.{member} is declared `{kind}` but given a value "
                f"({namespace[member]!r}); an abstract member has no value. Drop the "
                "value, or make it a normal field with a default."
            )
        declared[member] = kind
        del annotations[member]
    if declared:
        namespace["__annotations__"] = annotations
    return declared


def _own_declarations(kls: type) -> tuple[dict[str, Kind], dict[str, Any]]:
    """The abstract members `kls` declares and its other own annotations."""
    own = kls.__dict__.get("__annotations__", {})
    declared = kls.__dict__.get("__typedeqx_declared_abstract__")
    if declared is not None:
        return declared, own
    # A plain (non-Module) class in the MRO keeps its markers in its annotations.
    found: dict[str, Kind] = {}
    for member, annotation in own.items():
        kind = abstract_kind(annotation)
        if kind is not None:
            found[member] = kind
    return found, {m: a for m, a in own.items() if m not in found}


def abstract_members(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """The `AbstractVar`s and `AbstractClassVar`s of `cls` left unresolved.

    Walks the whole MRO from `object` down, so a member declared abstract by one base
    and provided by another (multiple inheritance) is resolved. A member declared as
    both stays a class-variable requirement; any annotation or class attribute
    resolves an `AbstractClassVar`, a non-`ClassVar` annotation or a class attribute
    resolves an `AbstractVar`.
    """
    instance_vars: set[str] = set()
    class_vars: set[str] = set()
    for kls in reversed(cls.__mro__):
        declared, annotations = _own_declarations(kls)
        for member, kind in declared.items():
            if kind == "AbstractClassVar":
                instance_vars.discard(member)
                class_vars.add(member)
            elif member not in class_vars:
                instance_vars.add(member)
        for member, annotation in annotations.items():
            class_vars.discard(member)
            if not _is_classvar(annotation):
                instance_vars.discard(member)
        for member in kls.__dict__:
            if member not in declared:
                instance_vars.discard(member)
                class_vars.discard(member)
    provided = {m for m in instance_vars | class_vars if _provides(cls, m)}
    return frozenset(instance_vars - provided), frozenset(class_vars - provided)


def _provides(cls: type, member: str) -> bool:
    """Whether `cls` has `member` by ordinary lookup (a field, possibly inherited
    from a base that comes before the declaring one in the MRO, or an attribute)."""
    if dataclasses.is_dataclass(cls) and member in {
        f.name for f in dataclasses.fields(cls)
    }:
        return True
    return inspect.getattr_static(cls, member, _ABSENT) is not _ABSENT


def raise_unresolved(cls: type, unresolved: dict[str, Kind]) -> None:
    """Raise the error for instantiating a class with abstract members left."""
    listed = ", ".join(f"{m} ({k})" for m, k in sorted(unresolved.items()))
    raise ModuleError(
        f"Cannot instantiate abstract module {cls.__name__}: it does not provide "
        f"{listed}. Define them in a subclass as fields, class attributes or "
        "properties, and instantiate that subclass."
    )
