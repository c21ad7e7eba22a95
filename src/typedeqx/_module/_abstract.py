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
                f"Cannot use unsubscripted `{kind}`: {name}.{member} is annotated "
                f"`{kind}` without a type argument; write `{kind}[<type>]`, e.g. "
                f"`{member}: {kind}[int]`."
            )
        if member in namespace:
            what = "class attribute" if kind == "AbstractClassVar" else "attribute"
            raise ModuleError(
                f"Abstract {what} {member} cannot have value: {name}.{member} is "
                f"declared `{kind}` but given one ({namespace[member]!r}). Drop the "
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
    # Equinox's phrases first ("... with abstract attributes {'x'}"), which tests
    # match; then which kind each member is.
    groups = []
    for what, kind in (
        ("class attributes", "AbstractClassVar"),
        ("attributes", "AbstractVar"),
    ):
        names = sorted(m for m, k in unresolved.items() if k == kind)
        if names:
            groups.append(f"abstract {what} {{{', '.join(map(repr, names))}}}")
    raise ModuleError(
        f"Can't instantiate abstract class {cls.__name__} with "
        f"{' and '.join(groups)}: it does not provide {listed}. Define them in a "
        "subclass as fields, class attributes or properties, and instantiate that "
        "subclass."
    )


def StrictConfig(  # noqa: N802 (Equinox's name)
    force_abstract: bool = False, **kwargs: object
) -> Literal[False] | None:
    """Deprecated (as in Equinox): the old configuration of `strict=`.

    `class M(Module, strict=StrictConfig(force_abstract=True))` makes `M` abstract;
    every other option is accepted and ignored. Equinox 0.13 spells the keyword
    `force_abstact` (and so ignores `force_abstract=`); both spellings are read here.

    **Arguments:**

    - `force_abstract`: make the class abstract, as `is_abstract=True` does.

    **Returns:**

    The value for `strict=`: `None` (abstract) or `False`.
    """
    forced = force_abstract or bool(kwargs.get("force_abstact", False))
    return None if forced else False


def declared_abstract(is_abstract: bool, strict: bool | None) -> bool:
    """Whether the class keywords make a class abstract.

    `is_abstract=True` does; so does `strict=None`, which is what
    `StrictConfig(force_abstract=True)` returns. `strict=True`/`False` are
    accepted for Equinox code and check nothing: Equinox 0.13 dropped its strict
    rules (and typedeqx's contracts are opt-in through `@checked`).
    """
    return is_abstract or strict is None


def raise_declared_abstract(cls: type) -> None:
    """Raise the error for instantiating a class declared `is_abstract=True`."""
    raise ModuleError(
        f"Cannot instantiate abstract `equinox.Module`. {cls.__name__} is declared "
        "abstract (`is_abstract=True`, or `strict=StrictConfig(force_abstract="
        "True)`); instantiate a concrete subclass."
    )
