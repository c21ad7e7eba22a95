"""`Module`: a frozen dataclass that is a PyTree.

What happens when:

- **class creation** (`_ModuleMeta.__new__`): abstract members are split out of the
  annotations, the class becomes a dataclass (with the generated `__init__` only
  if no class in its MRO wrote one), per-class flatten/unflatten functions are
  generated, and everything `__call__` needs is precomputed. Last, a class hook
  (set by `@checked`) runs. Class keywords: `is_abstract=`, and `strict=` (accepted
  for Equinox code, which it no longer checks either).
- **construction** (`_ModuleMeta.__call__`): `__init__` runs with assignment
  allowed; then unset fields get their defaults (or an error), converters run, the
  field-check hook (set by `@checked`) runs, then each `__check_init__` in the MRO.
- **after construction** the instance is immutable; PyTree unflattening builds
  instances without calling `__init__`. Methods stay plain functions in the class
  `__dict__`; looked up on an instance they are PyTrees (`Module.__getattribute__`).
"""

import abc
import dataclasses
import inspect
import types
from typing import TYPE_CHECKING, Any, ClassVar

import jax.tree_util as jtu

from .._errors import FrozenFieldError, ModuleError, UndeclaredFieldError
from ._abstract import (
    Kind,
    abstract_members,
    declared_abstract,
    raise_declared_abstract,
    raise_unresolved,
    split_abstract,
)
from ._bind import bind, binds_as_pytree
from ._checks import (
    check_not_own_method,
    warn_if_transformed,
    warn_post_init_ignored,
    warn_static_arrays,
)
from ._field import CONVERTER, STATIC
from ._flatten import WRAPPER_FIELD_NAMES, register_module_pytree
from ._guard import initialising, install_guards

_MISSING = dataclasses.MISSING
_get = object.__getattribute__
_MethodType = types.MethodType
_ABSENT: Any = object()

# ids of instances whose `__init__` is running (see `_guard.py`).
_initialising: set[int] = initialising


# The same set, for `filter_jit`'s memo, which only reads it: while it is not empty,
# some Module's fields can still be assigned, and the memo neither answers nor
# records (a truth test, cheaper than a function call on the dispatch path).
under_construction: set[int] = _initialising


def _inherited_fields(bases: tuple[type, ...]) -> set[str]:
    names: set[str] = set()
    for base in bases:
        if dataclasses.is_dataclass(base):
            names.update(f.name for f in dataclasses.fields(base))
    return names


def _hide_overridden_fields(bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
    """Make inherited fields that the class body redefines without an annotation (a
    property, a class attribute, a method) stop being fields, by declaring them
    `ClassVar`s for the dataclass machinery. Returns the original annotations."""
    annotations = namespace.get("__annotations__", {})
    overridden = [
        name
        for name in _inherited_fields(bases)
        if name in namespace and name not in annotations
    ]
    if not overridden:
        return None
    namespace["__annotations__"] = {
        **annotations,
        **{name: ClassVar[Any] for name in overridden},
    }
    return annotations


def _has_generated_init(cls: type, namespace: dict[str, Any]) -> bool:
    """Whether `cls` gets a dataclass `__init__`: no `__init__` in its body, and the
    nearest class in its MRO that decides (a Module, or a plain class with its own
    `__init__`) did not write one either."""
    if "__init__" in namespace:
        return False
    for kls in cls.__mro__[1:-1]:
        if "__typedeqx_user_init__" in kls.__dict__:
            return not kls.__dict__["__typedeqx_user_init__"]
        if getattr(kls, "__init__") is not object.__init__:  # noqa: B009 (mypy: misc)
            return False
    return True


def _converter_annotation(converter: Any) -> Any:
    try:
        parameters = list(inspect.signature(converter).parameters.values())
    except (TypeError, ValueError):  # builtins such as `str` have no signature
        return Any
    if not parameters or parameters[0].annotation is inspect.Parameter.empty:
        return Any
    return parameters[0].annotation


def _make_dataclass(cls: Any, generated_init: bool) -> None:
    init_doc = cls.__init__.__doc__
    dataclasses.dataclass(init=generated_init, repr=False, eq=False)(cls)
    if not generated_init:
        return
    cls.__init__.__doc__ = init_doc
    init_annotations = cls.__init__.__annotations__
    for f in dataclasses.fields(cls):
        if CONVERTER in f.metadata and f.name in init_annotations:
            init_annotations[f.name] = _converter_annotation(f.metadata[CONVERTER])


def _slotted(cls: type, names: frozenset[str]) -> frozenset[str]:
    return frozenset(
        n
        for n in names
        if isinstance(inspect.getattr_static(cls, n, None), types.MemberDescriptorType)
    )


def _field_plan(cls: Any) -> None:
    fields = dataclasses.fields(cls)
    dynamic = [f.name for f in fields if not f.metadata.get(STATIC, False)]
    static = [f.name for f in fields if f.metadata.get(STATIC, False)]
    names = frozenset(f.name for f in fields)
    slotted = _slotted(cls, names)
    setattr(cls, "__typedeqx_field_names__", names)
    setattr(cls, "__typedeqx_static_names__", tuple(static))
    setattr(cls, "__typedeqx_slotted__", slotted)
    setattr(
        cls,
        "__typedeqx_defaults__",
        tuple((f.name, f.default, f.default_factory) for f in fields),
    )
    setattr(
        cls,
        "__typedeqx_converters__",
        tuple(
            (f.name, f.metadata[CONVERTER]) for f in fields if CONVERTER in f.metadata
        ),
    )
    register_module_pytree(cls, dynamic, static, slotted)
    install_guards(cls, slotted)


def _check_init_plan(cls: type) -> tuple[Any, ...]:
    return tuple(
        k.__dict__["__check_init__"]
        for k in cls.__mro__
        if "__check_init__" in k.__dict__
    )


class _ModuleMeta(abc.ABCMeta):
    """Metaclass of `Module`: builds the dataclass and PyTree at class creation, and
    runs the initialisation protocol at construction."""

    __typedeqx_user_init__: bool
    __typedeqx_declared_abstract__: dict[str, Kind]
    __abstractvars__: frozenset[str]
    __abstractclassvars__: frozenset[str]
    __typedeqx_abstract__: bool
    __typedeqx_keyword_abstract__: bool
    __typedeqx_check_inits__: tuple[Any, ...]
    __typedeqx_class_hook__: Any

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        is_abstract: bool = False,
        strict: bool | None = False,
        **kwargs: Any,
    ) -> "_ModuleMeta":
        declared = split_abstract(name, namespace)
        own_annotations = _hide_overridden_fields(bases, namespace)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        generated_init = _has_generated_init(cls, namespace)
        cls.__typedeqx_user_init__ = not generated_init
        if not generated_init and hasattr(cls, "__post_init__"):
            warn_post_init_ignored(cls)
        _make_dataclass(cls, generated_init)
        if own_annotations is not None:
            cls.__annotations__ = own_annotations
        _field_plan(cls)
        cls.__typedeqx_declared_abstract__ = declared
        cls.__abstractvars__, cls.__abstractclassvars__ = abstract_members(cls)
        # Declared abstract by a class keyword: this class only, not its subclasses.
        cls.__typedeqx_keyword_abstract__ = declared_abstract(is_abstract, strict)
        cls.__typedeqx_abstract__ = bool(
            cls.__abstractvars__
            or cls.__abstractclassvars__
            or cls.__abstractmethods__
            or cls.__typedeqx_keyword_abstract__
        )
        cls.__typedeqx_check_inits__ = _check_init_plan(cls)
        hook = cls.__typedeqx_class_hook__
        if hook is not None:
            hook(cls)
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__typedeqx_abstract__:
            _raise_abstract(cls)
        kls: Any = cls
        self = kls.__new__(kls)
        key = id(self)
        _initialising.add(key)
        try:
            kls.__init__(self, *args, **kwargs)
        finally:
            _initialising.discard(key)
        _finish_init(cls, self)
        return self

    @property
    def __signature__(cls) -> inspect.Signature:
        """The signature of `__init__` without `self`, so that `inspect.signature`
        and `help` show how to construct the class."""
        signature = inspect.signature(getattr(cls, "__init__"))  # noqa: B009
        parameters = list(signature.parameters.values())[1:]
        return signature.replace(parameters=parameters)


def _raise_abstract(cls: Any) -> None:
    if cls.__typedeqx_keyword_abstract__:
        raise_declared_abstract(cls)
    unresolved: dict[str, Kind] = {n: "AbstractVar" for n in cls.__abstractvars__}
    unresolved.update({n: "AbstractClassVar" for n in cls.__abstractclassvars__})
    if unresolved:
        raise_unresolved(cls, unresolved)
    methods = ", ".join(sorted(cls.__abstractmethods__))
    raise ModuleError(
        f"Cannot instantiate abstract module {cls.__name__}: abstract methods "
        f"{methods} are not implemented. Subclass it and define them."
    )


def _is_set(self: Any, name: str, slotted: frozenset[str]) -> bool:
    if name in self.__dict__:
        return True
    return name in slotted and hasattr(self, name)


def _store(self: Any, name: str, value: Any, slotted: frozenset[str]) -> None:
    """Set a field of an instance whose `__init__` has returned (its guard would
    refuse): a default or a converted value, before anyone else sees it."""
    if name in slotted:
        object.__setattr__(self, name, value)
    else:
        _get(self, "__dict__")[name] = value


def _fill_defaults(cls: Any, self: Any) -> None:
    slotted = cls.__typedeqx_slotted__
    for name, default, factory in cls.__typedeqx_defaults__:
        if _is_set(self, name, slotted):
            continue
        if default is not _MISSING:
            _store(self, name, default, slotted)
        elif factory is not _MISSING:
            _store(self, name, factory(), slotted)
        else:
            raise ModuleError(
                f"Field {name!r} was not initialized. {cls.__name__}.__init__ "
                f"finished without setting it: assign `self.{name} = ...` in "
                "__init__ or give the field a default."
            )


def _finish_init(cls: Any, self: Any) -> None:
    _fill_defaults(cls, self)
    for name, converter in cls.__typedeqx_converters__:
        value = converter(getattr(self, name))
        _store(self, name, value, cls.__typedeqx_slotted__)
    for name in cls.__typedeqx_static_names__:
        warn_static_arrays(cls, name, getattr(self, name))
    check_fields = cls.__typedeqx_check_fields__
    if check_fields is not None:
        check_fields(self)
    for check_init in cls.__typedeqx_check_inits__:
        check_init(self)


class Module(metaclass=_ModuleMeta):
    """Base class for models: an immutable dataclass registered as a PyTree.

    Declare fields by annotation, optionally with [`field`][]. Fields marked
    `static=True` live in the tree structure; all others are children, so arrays in
    them are leaves that `jax.jit`, `jax.grad` and the filtered transformations see.
    Methods looked up on an instance are PyTrees too.

    ```python
    import jax
    import jax.numpy as jnp
    import typedeqx

    class Affine(typedeqx.Module):
        weight: jax.Array
        bias: jax.Array

        def __call__(self, x):
            return self.weight @ x + self.bias

    affine = Affine(jnp.ones((2, 3)), jnp.zeros(2))
    assert jax.tree_util.tree_leaves(affine)[0] is affine.weight
    ```
    """

    __typedeqx_field_names__: ClassVar[frozenset[str]]
    __typedeqx_slotted__: ClassVar[frozenset[str]]
    __typedeqx_class_hook__: ClassVar[Any] = None
    __typedeqx_check_fields__: ClassVar[Any] = None

    def __setattr__(self, name: str, value: Any) -> None:
        if id(self) in _initialising:
            cls = type(self)
            if name in cls.__typedeqx_field_names__:
                check_not_own_method(cls, name, self, value)
                warn_if_transformed(cls, name, value)
                _store(self, name, value, cls.__typedeqx_slotted__)
                return
            if name in WRAPPER_FIELD_NAMES:  # set by `module_update_wrapper`
                object.__setattr__(self, name, value)
                return
            raise UndeclaredFieldError(
                f"Cannot set {type(self).__name__}.{name}: it is not a field. "
                f"Declare it in the class body (`{name}: <type>`) before assigning it "
                "in __init__."
            )
        if name == "__orig_class__":  # set by `typing` on `Generic[...]()` calls
            object.__setattr__(self, name, value)
            return
        raise FrozenFieldError(
            f"Cannot assign {type(self).__name__}.{name}: modules are immutable "
            f"after __init__. Make an updated copy instead: "
            f"`typedeqx.tree_at(lambda m: m.{name}, module, new_value)`."
        )

    if not TYPE_CHECKING:  # would make every attribute of a Module `Any` to checkers

        def __getattribute__(self, name: str) -> Any:
            # A field first, from the instance `__dict__` (its class attribute is a
            # guard, see `_guard.py`, which holds the same value). Methods are
            # plain functions in the class `__dict__`; the method Python binds
            # becomes a PyTree here. A field read costs one frame more.
            out = instance_dict(self).get(name, _ABSENT)
            if out is not _ABSENT:
                return out
            out = _get(self, name)
            if (
                type(out) is _MethodType
                and _get(out, "__self__") is self
                and binds_as_pytree(name)
            ):
                return bind(_get(out, "__func__"), self)
            return out

    def __delattr__(self, name: str) -> None:
        raise FrozenFieldError(
            f"Cannot delete {type(self).__name__}.{name}: modules are immutable."
        )

    def __eq__(self, other: object) -> Any:
        from .._tree import tree_equal

        return tree_equal(self, other)

    def __hash__(self) -> int:
        return hash(tuple(jtu.tree_leaves(self)))

    def __repr__(self) -> str:
        from .._pretty import tree_pformat

        return tree_pformat(self)


# The `__dict__` descriptor's getter: a Module's own dict, in C, without a lookup of
# `"__dict__"` through `__getattribute__` (every Module's `__dict__` is Module's).
instance_dict = Module.__dict__["__dict__"].__get__
