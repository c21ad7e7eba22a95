"""`Module`: a frozen dataclass that is a PyTree.

What happens when:

- **class creation** (`_ModuleMeta.__new__`): abstract members are split out of the
  annotations, methods are wrapped so that bound methods are PyTrees, the class
  becomes a dataclass (with the generated `__init__` only if no class in its MRO
  wrote one), per-class flatten/unflatten functions are generated, and everything
  `__call__` needs is precomputed. Last, a class hook (set by `@checked`) runs.
- **construction** (`_ModuleMeta.__call__`): `__init__` runs with assignment
  allowed; then unset fields get their defaults (or an error), converters run, the
  field-check hook (set by `@checked`) runs, then each `__check_init__` in the MRO.
- **after construction** the instance is immutable; PyTree unflattening builds
  instances without calling `__init__`.
"""

import abc
import dataclasses
import warnings
from typing import Any, ClassVar, cast

import jax.tree_util as jtu

from .._errors import FrozenFieldError, ModuleError
from .._filters import is_array
from ._abstract import Kind, raise_unresolved, split_abstract
from ._field import CONVERTER, STATIC
from ._flatten import register_module_pytree
from ._method import MethodDescriptor, wants_wrapping

_MISSING = dataclasses.MISSING

# ids of instances whose `__init__` is running. An id is unique among live objects
# and set operations are atomic, so this is safe across threads and re-entrant.
_initialising: set[int] = set()


def _wrap_methods(namespace: dict[str, Any]) -> None:
    annotated = namespace.get("__annotations__", {})
    for name, value in list(namespace.items()):
        if name not in annotated and wants_wrapping(name, value):
            namespace[name] = MethodDescriptor(value)


def _field_plan(cls: Any) -> None:
    fields = dataclasses.fields(cls)
    dynamic = [f.name for f in fields if not f.metadata.get(STATIC, False)]
    static = [f.name for f in fields if f.metadata.get(STATIC, False)]
    setattr(cls, "__typedeqx_field_names__", frozenset(f.name for f in fields))
    setattr(cls, "__typedeqx_static_names__", tuple(static))
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
    register_module_pytree(cls, dynamic, static)


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
    __typedeqx_abstract_vars__: dict[str, Kind]
    __typedeqx_abstract__: bool
    __typedeqx_check_inits__: tuple[Any, ...]
    __typedeqx_class_hook__: Any

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        **kwargs: Any,
    ) -> "_ModuleMeta":
        unresolved = split_abstract(name, bases, namespace)
        _wrap_methods(namespace)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        user_init = "__init__" in namespace or any(
            getattr(b, "__typedeqx_user_init__", False) for b in bases
        )
        cls.__typedeqx_user_init__ = user_init
        dataclasses.dataclass(init=not user_init, repr=False, eq=False)(cast(Any, cls))
        _field_plan(cls)
        cls.__typedeqx_abstract_vars__ = unresolved
        cls.__typedeqx_abstract__ = bool(unresolved or cls.__abstractmethods__)
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


def _raise_abstract(cls: Any) -> None:
    if cls.__typedeqx_abstract_vars__:
        raise_unresolved(cls, cls.__typedeqx_abstract_vars__)
    methods = ", ".join(sorted(cls.__abstractmethods__))
    raise ModuleError(
        f"Cannot instantiate abstract module {cls.__name__}: abstract methods "
        f"{methods} are not implemented. Subclass it and define them."
    )


def _finish_init(cls: Any, self: Any) -> None:
    d = self.__dict__
    for name, default, factory in cls.__typedeqx_defaults__:
        if name not in d:
            if default is not _MISSING:
                d[name] = default
            elif factory is not _MISSING:
                d[name] = factory()
            else:
                raise ModuleError(
                    f"{cls.__name__}.__init__ finished without setting field "
                    f"{name!r}. Assign `self.{name} = ...` in __init__ or give the "
                    "field a default."
                )
    for name, converter in cls.__typedeqx_converters__:
        d[name] = converter(d[name])
    for name in cls.__typedeqx_static_names__:
        if is_array(d[name]):
            warnings.warn(
                f"{cls.__name__}.{name} is a static field holding an array; "
                "static fields are part of the tree structure and must be hashable "
                "configuration. Make it a normal field.",
                UserWarning,
                stacklevel=3,
            )
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
    class Affine(typedeqx.Module):
        weight: jax.Array
        bias: jax.Array

        def __call__(self, x):
            return self.weight @ x + self.bias
    ```
    """

    __typedeqx_field_names__: ClassVar[frozenset[str]]
    __typedeqx_class_hook__: ClassVar[Any] = None
    __typedeqx_check_fields__: ClassVar[Any] = None

    def __setattr__(self, name: str, value: Any) -> None:
        if id(self) in _initialising:
            if name in type(self).__typedeqx_field_names__:
                object.__setattr__(self, name, value)
                return
            raise ModuleError(
                f"Cannot set {type(self).__name__}.{name}: it is not a field. "
                f"Declare it in the class body (`{name}: <type>`) before assigning it "
                "in __init__."
            )
        raise FrozenFieldError(
            f"Cannot assign {type(self).__name__}.{name}: modules are immutable "
            f"after __init__. Make an updated copy instead: "
            f"`typedeqx.tree_at(lambda m: m.{name}, module, new_value)`."
        )

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
