"""`filter_closure_convert`: make a function's closed-over arrays explicit.

The function is traced once on example arguments; the result is a Module holding
the jaxpr and, as leaves, every array or tracer the function closed over. Passing
it across an API boundary (`jax.custom_vjp`, `filter_custom_vjp`, a primitive's
rule) then carries those arrays along visibly instead of smuggling tracers in.
"""

import types
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import jax
import jax.core

from .._errors import TransformError
from .._module import Module, field
from ._split import (
    TreeSplit,
    describe_leaf,
    is_traced_or_array,
    make_struct,
    split_tree,
)

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _struct(x: Any) -> jax.ShapeDtypeStruct:
    return make_struct(x.shape, x.dtype)


class _ClosureConvert(Module):
    """A traced function: call it like the original, with arguments of the same
    structure, shapes and dtypes as the examples it was traced on."""

    jaxpr: Any
    consts: list[Any]
    in_split: TreeSplit = field(static=True)
    in_structs: tuple[jax.ShapeDtypeStruct, ...] = field(static=True)
    out_split: TreeSplit = field(static=True)

    def __init__(
        self,
        jaxpr: Any,
        consts: list[Any],
        in_split: TreeSplit,
        in_structs: tuple[jax.ShapeDtypeStruct, ...],
        out_split: TreeSplit,
    ) -> None:
        self.jaxpr = jaxpr
        self.consts = consts
        self.in_split = in_split
        self.in_structs = in_structs
        self.out_split = out_split

    @property
    def in_struct(self) -> Any:
        """The `(args, kwargs)` it takes: a `jax.ShapeDtypeStruct` per array, and
        the non-array leaves themselves."""
        return self.in_split.rebuild(list(self.in_structs))

    @property
    def out_struct(self) -> Any:
        """The output's structure: a `jax.ShapeDtypeStruct` per array, and the
        non-array leaves themselves."""
        avals = [_struct(v.aval) for v in self.jaxpr.outvars]
        return self.out_split.rebuild(avals)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        dynamic = _check_input(self.in_split, self.in_structs, args, kwargs)
        out = jax.core.eval_jaxpr(self.jaxpr, self.consts, *dynamic)
        return self.out_split.rebuild(out)


class _TrivialClosureConvert(Module):
    """A function that closes over nothing, so has nothing to convert: called
    directly (after the same check of its arguments)."""

    fn: Any = field(static=True)
    in_split: TreeSplit = field(static=True)
    in_structs: tuple[jax.ShapeDtypeStruct, ...] = field(static=True)

    def __init__(
        self,
        fn: Any,
        in_split: TreeSplit,
        in_structs: tuple[jax.ShapeDtypeStruct, ...],
    ) -> None:
        self.fn = fn
        self.in_split = in_split
        self.in_structs = in_structs

    @property
    def in_struct(self) -> Any:
        """As for a traced conversion."""
        return self.in_split.rebuild(list(self.in_structs))

    @property
    def out_struct(self) -> Any:
        """As for a traced conversion (computed with `jax.eval_shape`)."""
        out_split: list[TreeSplit] = []

        def call(*arrays: Any) -> Any:
            a, k = self.in_split.rebuild(arrays)
            dynamic, split = split_tree(self.fn(*a, **k))
            out_split.append(split)
            return dynamic

        out_arrays = jax.eval_shape(call, *self.in_structs)
        return out_split[-1].rebuild([_struct(x) for x in out_arrays])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _check_input(self.in_split, self.in_structs, args, kwargs)
        return self.fn(*args, **kwargs)


def _check_input(
    in_split: TreeSplit,
    in_structs: tuple[jax.ShapeDtypeStruct, ...],
    args: Any,
    kwargs: Any,
) -> list[Any]:
    dynamic, split = split_tree((args, kwargs), is_traced_or_array)
    structs = tuple(_struct(x) for x in dynamic)
    if split != in_split or structs != in_structs:
        raise TransformError(
            "A closure-converted function must be called with arguments like "
            "the example arguments it was traced with (same structure, static "
            f"leaves, shapes and dtypes). Traced with array arguments "
            f"{_shapes(in_structs)}; called with {_shapes(structs)}."
        )
    return dynamic


def _shapes(structs: Sequence[jax.ShapeDtypeStruct]) -> str:
    return "[" + ", ".join(describe_leaf(s) for s in structs) + "]"


def filter_closure_convert(
    fn: Callable[_P, _T], *args: Any, **kwargs: Any
) -> Callable[_P, _T]:
    """Trace `fn` on example arguments and return an equivalent callable whose
    closed-over arrays and tracers are leaves of its PyTree.

    **Arguments:**

    - `fn`: the function to convert, called as `fn(*args, **kwargs)`.
    - `*args`, `**kwargs`: example arguments. Arrays (and `jax.ShapeDtypeStruct`s)
        stand for any array of that shape and dtype; every other leaf is fixed.

    **Returns:**

    A callable PyTree (a Module) with the signature of `fn`, valid for arguments
    with the same structure, non-array leaves, shapes and dtypes as the examples;
    its `consts` are the arrays `fn` closed over.
    """
    dynamic, in_split = split_tree((args, kwargs), is_traced_or_array)
    in_structs = tuple(_struct(x) for x in dynamic)
    if isinstance(fn, types.FunctionType) and fn.__closure__ is None:
        # Nothing closed over, so nothing to hoist: skip tracing.
        trivial = _TrivialClosureConvert(fn, in_split, in_structs)
        return cast(Callable[_P, _T], trivial)
    structure: list[TreeSplit] = []

    def call(*arrays: Any) -> list[Any]:
        a, k = in_split.rebuild(arrays)
        out_arrays, out_split = split_tree(cast(Callable[..., Any], fn)(*a, **k))
        structure.append(out_split)
        return out_arrays

    closed = jax.make_jaxpr(call)(*dynamic)
    converted = _ClosureConvert(
        jaxpr=closed.jaxpr,
        consts=list(closed.consts),
        in_split=in_split,
        in_structs=in_structs,
        out_split=structure[-1],
    )
    return cast(Callable[_P, _T], converted)
