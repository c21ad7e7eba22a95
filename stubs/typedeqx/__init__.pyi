import dataclasses
from abc import ABCMeta
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import _MISSING_TYPE  # pyright: ignore[reportPrivateUsage]
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Concatenate,
    Generic,
    Literal,
    Protocol,
    TypeAlias,
    TypeGuard,
    TypeVar,
    overload,
    type_check_only,
)
from typing import Annotated as Batched
from typing import ClassVar as AbstractClassVar
from typing import ClassVar as _ClassVar

import numpy as np
from jax.extend.core import ClosedJaxpr
from jax.typing import ArrayLike
from jaxtyping import Array, TypeCheckError
from typing_extensions import (
    ParamSpec,
    TypeIs,
    dataclass_transform,
)

from . import debug as debug
from . import nn as nn
from ._enum import Enumeration as Enumeration

# `Batched` and `AbstractClassVar` are typing special forms under another name; only
# `__all__` can re-export a renamed import from a stub.
__all__ = [
    "AbstractClassVar",
    "AbstractVar",
    "Batched",
    "CheckpointError",
    "EquinoxRuntimeError",
    "EquinoxTracetimeError",
    "ValueCheckError",
    "branched_error_if",
    "clear_caches",
    "default_deserialise_filter_spec",
    "default_serialise_filter_spec",
    "error_if",
    "tree_deserialise_leaves",
    "tree_serialise_leaves",
    "FrozenFieldError",
    "Module",
    "ModuleError",
    "Partial",
    "ShapeError",
    "StrictConfig",
    "TransformError",
    "TreeError",
    "apply_updates",
    "checked",
    "checks",
    "combine",
    "field",
    "filter",
    "filter_checkpoint",
    "filter_closure_convert",
    "filter_custom_jvp",
    "filter_custom_vjp",
    "filter_eval_shape",
    "filter_grad",
    "filter_hessian",
    "filter_jacfwd",
    "filter_jacrev",
    "filter_jit",
    "filter_jvp",
    "filter_make_jaxpr",
    "filter_pmap",
    "filter_pure_callback",
    "filter_shard",
    "filter_value_and_grad",
    "filter_vjp",
    "filter_vmap",
    "if_array",
    "is_array",
    "is_array_like",
    "is_inexact_array",
    "is_inexact_array_like",
    "module_update_wrapper",
    "nn",
    "debug",
    "Enumeration",
    "Summary",
    "summary",
    "partition",
    "static_field",
    "tree_at",
    "tree_check",
    "tree_equal",
    "tree_flatten_one_level",
    "tree_inference",
    "tree_pformat",
    "tree_pprint",
]

__version__: str

def __dir__() -> list[str]: ...

_T = TypeVar("_T")
_N = TypeVar("_N")
_A = TypeVar("_A")
_R = TypeVar("_R")
_S = TypeVar("_S", bound=ArrayLike)
_C = TypeVar("_C", bound=Callable[..., Any])
_P = ParamSpec("_P")

_IsLeaf: TypeAlias = Callable[[Any], bool] | None
_NumpyArray: TypeAlias = np.ndarray[Any, Any] | np.generic

# --- errors ---

class ModuleError(TypeError): ...
class TreeError(ValueError): ...
class TransformError(ValueError): ...
class FrozenFieldError(dataclasses.FrozenInstanceError): ...

# --- filters ---

def is_array(element: object) -> TypeIs[Array | _NumpyArray]: ...
def is_array_like(element: object) -> bool: ...
def is_inexact_array(element: object) -> TypeGuard[Array | _NumpyArray]: ...
def is_inexact_array_like(element: object) -> bool: ...
def filter(
    pytree: _T,
    filter_spec: Any,
    inverse: bool = False,
    replace: Any = None,
    is_leaf: _IsLeaf = None,
) -> _T: ...
def partition(
    pytree: _T, filter_spec: Any, replace: Any = None, is_leaf: _IsLeaf = None
) -> tuple[_T, _T]: ...
def combine(*pytrees: _T, is_leaf: _IsLeaf = None) -> _T: ...

# --- module core ---

@overload
def field(
    *,
    converter: Callable[[Any], Any],
    static: bool = False,
    default: Any = ...,
    default_factory: Callable[[], Any] | Literal[_MISSING_TYPE.MISSING] = ...,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: bool | Literal[_MISSING_TYPE.MISSING] = ...,
    metadata: Mapping[Any, Any] | None = None,
) -> Any: ...
@overload
def field(
    *,
    converter: None = None,
    static: bool = False,
    default: _T,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: bool | Literal[_MISSING_TYPE.MISSING] = ...,
    metadata: Mapping[Any, Any] | None = None,
) -> _T: ...
@overload
def field(
    *,
    converter: None = None,
    static: bool = False,
    default_factory: Callable[[], _T],
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: bool | Literal[_MISSING_TYPE.MISSING] = ...,
    metadata: Mapping[Any, Any] | None = None,
) -> _T: ...
@overload
def field(
    *,
    converter: None = None,
    static: bool = False,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: bool | Literal[_MISSING_TYPE.MISSING] = ...,
    metadata: Mapping[Any, Any] | None = None,
) -> Any: ...

AbstractVar: TypeAlias = Annotated[_T, "AbstractVar"]

# Not `frozen_default=True`: checkers would then also reject the `self.x = ...`
# assignments of a user `__init__`, which is how Equinox modules are written.
@dataclass_transform(field_specifiers=(dataclasses.field, field))
class _ModuleMeta(ABCMeta):
    # Equinox's class keywords: `class M(Module, strict=True)`, `is_abstract=True`.
    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        is_abstract: bool = False,
        strict: bool | None = False,
        **kwargs: Any,
    ) -> _ModuleMeta: ...

class Module(metaclass=_ModuleMeta):
    __abstractvars__: _ClassVar[frozenset[str]]
    __abstractclassvars__: _ClassVar[frozenset[str]]
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __treescope_repr__(self, path: str | None, subtree_renderer: Any) -> Any: ...

def static_field(
    *,
    converter: Callable[[Any], Any] | None = None,
    default: Any = ...,
    default_factory: Callable[[], Any] | Literal[_MISSING_TYPE.MISSING] = ...,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: bool | Literal[_MISSING_TYPE.MISSING] = ...,
    metadata: Mapping[Any, Any] | None = None,
) -> Any: ...
def StrictConfig(  # noqa: N802
    force_abstract: bool = False, **kwargs: object
) -> Literal[False] | None: ...

class Partial(Module, Generic[_R]):
    func: Callable[..., _R]
    args: tuple[Any, ...]
    keywords: dict[str, Any]
    def __init__(
        self, func: Callable[..., _R], /, *args: Any, **kwargs: Any
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> _R: ...

def module_update_wrapper(
    wrapper: Module, wrapped: Callable[_P, _R] | None = None
) -> Callable[_P, _R]: ...

# --- tree tools ---

# Stands for "not given": `replace` and `replace_fn` are exclusive.
@type_check_only
class _Unset: ...

# `where` selects one node: `replace` has that node's type. (mypy solves `_N` from
# `replace`, then checks the node against it; pyright solves `_N` as the union of
# both, so it checks `where` but accepts any replacement.)
@overload
def tree_at(
    where: Callable[[_T], _N],
    pytree: _T,
    replace: _N,
    replace_fn: _Unset = ...,
    is_leaf: _IsLeaf = None,
) -> _T: ...

# `where` selects an optional node (such as `Linear.bias`), replaced by a value or None.
@overload
def tree_at(
    where: Callable[[_T], _N | None],
    pytree: _T,
    replace: _N | None,
    replace_fn: _Unset = ...,
    is_leaf: _IsLeaf = None,
) -> _T: ...

# `where` selects a sequence of nodes: one replacement each.
@overload
def tree_at(
    where: Callable[[_T], Sequence[_N]],
    pytree: _T,
    replace: Sequence[_N],
    replace_fn: _Unset = ...,
    is_leaf: _IsLeaf = None,
) -> _T: ...

# `where` selects a callable node (a layer or an activation): any callable replaces it.
@overload
def tree_at(
    where: Callable[[_T], Callable[..., Any]],
    pytree: _T,
    replace: Callable[..., Any],
    replace_fn: _Unset = ...,
    is_leaf: _IsLeaf = None,
) -> _T: ...

# `replace_fn` maps each selected node to its replacement.
@overload
def tree_at(
    where: Callable[[_T], _N],
    pytree: _T,
    replace: _Unset = ...,
    *,
    replace_fn: Callable[[_N], Any],
    is_leaf: _IsLeaf = None,
) -> _T: ...
@overload
def tree_at(
    where: Callable[[_T], Sequence[_N]],
    pytree: _T,
    replace: _Unset = ...,
    *,
    replace_fn: Callable[[_N], Any],
    is_leaf: _IsLeaf = None,
) -> _T: ...
def tree_equal(
    *pytrees: Any, typematch: bool = False, rtol: float = 0.0, atol: float = 0.0
) -> bool | Array: ...
def apply_updates(model: _T, updates: Any) -> _T: ...
def tree_inference(pytree: _T, value: bool) -> _T: ...
def tree_pformat(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = ...,
) -> str: ...
def tree_pprint(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = ...,
) -> None: ...
def tree_flatten_one_level(pytree: Any) -> tuple[list[Any], Any]: ...
def tree_check(pytree: Any) -> None: ...

# --- checked ---

class ShapeError(TypeCheckError, ValueError):
    path: str
    owner: str | None
    member: str
    parameter: str
    role: str
    expected: str
    got: str
    detail: str
    bindings: dict[str, Any]
    bound_by: dict[str, str]
    relevant: tuple[str, ...]
    hint: str | None
    via: str
    note: str
    origin: Any
    def __init__(
        self,
        *,
        owner: str | None,
        member: str,
        parameter: str,
        role: str,
        expected: str,
        got: str,
        detail: str,
        bindings: dict[str, Any],
        bound_by: dict[str, str],
        relevant: tuple[str, ...] = (),
        hint: str | None = None,
        origin: Any = None,
    ) -> None: ...
    def set_path(self, path: str, origin: Any) -> None: ...

@overload
def checked(obj: type[_T]) -> type[_T]: ...
@overload
def checked(obj: _C) -> _C: ...
def checks(
    enabled: bool = True, *, values: bool | None = None
) -> AbstractContextManager[None]: ...

# --- transformations ---

_Donate: TypeAlias = Literal[
    "all", "all-except-first", "warn", "warn-except-first", "none"
]

@overload
def filter_jit(
    fun: None = None, *, donate: _Donate = "none", **jitkwargs: Any
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]: ...
@overload
def filter_jit(
    fun: Callable[_P, _R], *, donate: _Donate = "none", **jitkwargs: Any
) -> Callable[_P, _R]: ...

# Gradients are taken with respect to the first argument, and have its type (with
# `None` at leaves that are not inexact arrays). The function must return a scalar.
@overload
def filter_grad(
    fun: None = None, *, has_aux: Literal[False] = False, **gradkwargs: Any
) -> Callable[
    [Callable[Concatenate[_T, _P], ArrayLike]], Callable[Concatenate[_T, _P], _T]
]: ...
@overload
def filter_grad(
    fun: None = None, *, has_aux: Literal[True], **gradkwargs: Any
) -> Callable[
    [Callable[Concatenate[_T, _P], tuple[ArrayLike, _A]]],
    Callable[Concatenate[_T, _P], tuple[_T, _A]],
]: ...
@overload
def filter_grad(
    fun: Callable[Concatenate[_T, _P], ArrayLike],
    *,
    has_aux: Literal[False] = False,
    **gradkwargs: Any,
) -> Callable[Concatenate[_T, _P], _T]: ...
@overload
def filter_grad(
    fun: Callable[Concatenate[_T, _P], tuple[ArrayLike, _A]],
    *,
    has_aux: Literal[True],
    **gradkwargs: Any,
) -> Callable[Concatenate[_T, _P], tuple[_T, _A]]: ...
@overload
def filter_value_and_grad(
    fun: None = None, *, has_aux: Literal[False] = False, **gradkwargs: Any
) -> Callable[
    [Callable[Concatenate[_T, _P], _S]], Callable[Concatenate[_T, _P], tuple[_S, _T]]
]: ...
@overload
def filter_value_and_grad(
    fun: None = None, *, has_aux: Literal[True], **gradkwargs: Any
) -> Callable[
    [Callable[Concatenate[_T, _P], tuple[_S, _A]]],
    Callable[Concatenate[_T, _P], tuple[tuple[_S, _A], _T]],
]: ...
@overload
def filter_value_and_grad(
    fun: Callable[Concatenate[_T, _P], _S],
    *,
    has_aux: Literal[False] = False,
    **gradkwargs: Any,
) -> Callable[Concatenate[_T, _P], tuple[_S, _T]]: ...
@overload
def filter_value_and_grad(
    fun: Callable[Concatenate[_T, _P], tuple[_S, _A]],
    *,
    has_aux: Literal[True],
    **gradkwargs: Any,
) -> Callable[Concatenate[_T, _P], tuple[tuple[_S, _A], _T]]: ...
def filter_jacfwd(
    fun: Callable[_P, Any], has_aux: bool = False
) -> Callable[_P, Any]: ...
def filter_jacrev(
    fun: Callable[_P, Any], has_aux: bool = False
) -> Callable[_P, Any]: ...
def filter_hessian(
    fun: Callable[_P, Any], has_aux: bool = False
) -> Callable[_P, Any]: ...

@dataclasses.dataclass(frozen=True)
class if_array:
    axis: int
    def __call__(self, x: object) -> int | None: ...

# Vectorising keeps the parameter and return types: an array gains a leading axis
# and a Module stays the same class (its leaves gain the axis).
@overload
def filter_vmap(
    fun: None = None,
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]: ...
@overload
def filter_vmap(
    fun: Callable[_P, _R],
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[_P, _R]: ...
@overload
def filter_pmap(
    fun: None = None,
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    donate: Literal["all", "warn", "none"] = "none",
    **pmapkwargs: Any,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]: ...
@overload
def filter_pmap(
    fun: Callable[_P, _R],
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    donate: Literal["all", "warn", "none"] = "none",
    **pmapkwargs: Any,
) -> Callable[_P, _R]: ...

# Abstract inputs (`jax.ShapeDtypeStruct`s standing for arrays) are why one calls
# `filter_eval_shape`, so the arguments' types are not checked against `fun`'s.
# What is checked: the arity of positional calls (one overload per count; a
# `Callable[[Any, Any], Any]` refuses a function that needs three), and, for calls
# with keywords, the names and types through `fun`'s ParamSpec.
@overload
def filter_eval_shape(fun: Callable[[], Any], /) -> Any: ...
@overload
def filter_eval_shape(fun: Callable[[Any], Any], a0: Any, /) -> Any: ...
@overload
def filter_eval_shape(fun: Callable[[Any, Any], Any], a0: Any, a1: Any, /) -> Any: ...
@overload
def filter_eval_shape(
    fun: Callable[[Any, Any, Any], Any], a0: Any, a1: Any, a2: Any, /
) -> Any: ...
@overload
def filter_eval_shape(
    fun: Callable[[Any, Any, Any, Any], Any], a0: Any, a1: Any, a2: Any, a3: Any, /
) -> Any: ...
@overload
def filter_eval_shape(
    fun: Callable[[Any, Any, Any, Any, Any], Any],
    a0: Any,
    a1: Any,
    a2: Any,
    a3: Any,
    a4: Any,
    /,
) -> Any: ...
@overload
def filter_eval_shape(
    fun: Callable[_P, Any], /, *args: _P.args, **kwargs: _P.kwargs
) -> Any: ...
@overload
def filter_checkpoint(
    fun: None = None,
    *,
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]: ...
@overload
def filter_checkpoint(
    fun: Callable[_P, _R],
    *,
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
) -> Callable[_P, _R]: ...

# Generic in the decorated function's signature, so that calls are checked.
class filter_custom_jvp(Generic[_P, _R]):
    fn: Callable[_P, _R]
    def __init__(self, fn: Callable[_P, _R]) -> None: ...
    def def_jvp(self, fn_jvp: _C) -> _C: ...
    def __call__(self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

class filter_custom_vjp(Generic[_T, _P, _R]):
    fn: Callable[Concatenate[_T, _P], _R]
    fn_fwd: Callable[..., Any] | None
    fn_bwd: Callable[..., Any] | None
    def __init__(self, fn: Callable[Concatenate[_T, _P], _R]) -> None: ...
    def def_fwd(self, fn_fwd: _C) -> _C: ...
    def def_bwd(self, fn_bwd: _C) -> _C: ...
    def defvjp(
        self, fn_fwd: Callable[..., Any], fn_bwd: Callable[..., Any]
    ) -> None: ...
    def __call__(self, vjp_arg: _T, /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

def filter_closure_convert(
    fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs
) -> Callable[_P, _R]: ...
def filter_pure_callback(
    callback: Callable[..., Any],
    *args: Any,
    result_shape_dtypes: Any,
    vmap_method: str | None = None,
    sharding: Any = None,
    **kwargs: Any,
) -> Any: ...
def filter_jvp(
    fn: Callable[..., _R],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    **kwargs: Any,
) -> tuple[_R, Any]: ...
@overload
def filter_vjp(
    fun: Callable[..., _R], *primals: Any, has_aux: Literal[False] = False
) -> tuple[_R, Callable[..., tuple[Any, ...]]]: ...
@overload
def filter_vjp(
    fun: Callable[..., tuple[_R, _A]], *primals: Any, has_aux: Literal[True]
) -> tuple[_R, Callable[..., tuple[Any, ...]], _A]: ...
def filter_make_jaxpr(
    fun: Callable[_P, Any],
) -> Callable[_P, tuple[ClosedJaxpr, Any, Any]]: ...
def filter_shard(x: _T, device_or_shardings: Any) -> _T: ...

# --- checkpoints, runtime errors, caches ---
@type_check_only
class _SupportsWrite(Protocol):
    def write(self, s: bytes, /) -> object: ...

@type_check_only
class _SupportsReadSeek(Protocol):
    def seek(self, offset: int, whence: int, /) -> object: ...
    def read(self, length: int = ..., /) -> bytes: ...

_OnError: TypeAlias = Literal["default", "raise", "breakpoint", "nan", "off"]

class CheckpointError(RuntimeError, ValueError): ...
class EquinoxRuntimeError(RuntimeError): ...
class EquinoxTracetimeError(RuntimeError): ...

class ValueCheckError(RuntimeError):
    path: str | None
    def __init__(self, message: str, path: str | None = None) -> None: ...

def default_serialise_filter_spec(f: _SupportsWrite, x: Any) -> None: ...
def default_deserialise_filter_spec(f: _SupportsReadSeek, x: Any) -> Any: ...
def tree_serialise_leaves(
    path_or_file: str | Path | _SupportsWrite,
    pytree: Any,
    filter_spec: Any = ...,
    is_leaf: Callable[[Any], bool] | None = None,
    *,
    durable: bool = False,
) -> None: ...
def tree_deserialise_leaves(
    path_or_file: str | Path | _SupportsReadSeek,
    like: _T,
    filter_spec: Any = ...,
    is_leaf: Callable[[Any], bool] | None = None,
    *,
    strict: bool = True,
) -> _T: ...
def error_if(
    x: _T, pred: ArrayLike, msg: str, *, on_error: _OnError = "default"
) -> _T: ...
def branched_error_if(
    x: _T,
    pred: ArrayLike,
    index: ArrayLike,
    msgs: Sequence[str],
    *,
    on_error: _OnError = "default",
) -> _T: ...
def clear_caches() -> None: ...

# --- model summaries ---

@type_check_only
class _SummaryRow:
    path: str
    module: str
    inputs: list[str]
    output: str
    params: int | None
    bytes: int | None
    vmapped: bool
    count: int | None
    failed: bool
    def __init__(
        self,
        path: str,
        module: str,
        inputs: list[str],
        output: str = "-",
        params: int | None = None,
        bytes: int | None = None,
        vmapped: bool = False,
        count: int | None = None,
        failed: bool = False,
    ) -> None: ...
    @property
    def note(self) -> str: ...
    def cells(self) -> tuple[str, ...]: ...

class Summary:
    __match_args__ = ("rows", "total_params", "total_bytes", "output", "error")
    Row: _ClassVar[type[_SummaryRow]]
    rows: list[_SummaryRow]
    total_params: int
    total_bytes: int
    output: Any
    error: Exception | None
    def __init__(
        self,
        rows: list[_SummaryRow],
        total_params: int,
        total_bytes: int,
        output: Any = None,
        error: Exception | None = None,
    ) -> None: ...
    def totals(self) -> str: ...
    def footer(self) -> str: ...
    def rich_table(self) -> Any: ...
    def __rich__(self) -> Any: ...

def summary(model: Any, *args: Any, **kwargs: Any) -> Summary: ...
