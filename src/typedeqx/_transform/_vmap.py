"""`filter_vmap` and `if_array`: vectorise arrays, broadcast everything else.

`in_axes` and `out_axes` are PyTree prefixes of the arguments and of the output
whose leaves are an `int` (map every array below along that axis), `None`
(broadcast) or a callable `leaf -> int | None` evaluated on every leaf below. They
are resolved to one axis per leaf; the mapped leaves go through `jax.vmap`, the
others are closed over. Outputs come back mapped along axis 0 and are moved to
their `out_axes` afterwards; non-array outputs ride in the output's structure.
"""

import dataclasses
import inspect
from collections.abc import Callable, Hashable, Sequence
from typing import Any, overload

import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from .._errors import TransformError
from .._filters import is_array
from ._common import (
    Static,
    TransformWrapper,
    call_path,
    describe_leaf,
    fun_name,
    merge_leaves,
)


@dataclasses.dataclass(frozen=True)
class if_array:
    """An axis spec for `filter_vmap` and `filter_pmap`: `axis` for arrays, `None`
    (broadcast or unmapped) for every other leaf.

    ```python
    typedeqx.if_array(1)(jnp.zeros((2, 3)))  # 1
    typedeqx.if_array(1)(jax.nn.relu)  # None
    ```
    """

    axis: int

    def __call__(self, x: Any) -> int | None:
        return self.axis if is_array(x) else None


_LEADING = if_array(0)


def _is_spec_leaf(x: Any) -> bool:
    return x is None or callable(x)


def resolve_axes(spec: Any, tree: Any, what: str) -> list[int | None]:
    """One axis (or `None`) per leaf of `tree`, from an axis spec prefix of it.

    **Arguments:**

    - `spec`: a PyTree prefix of `tree` with `int`, `None` or callable leaves.
    - `tree`: the arguments (as a tuple) or the output.
    - `what`: `"in_axes"` or `"out_axes"`, for error messages.

    **Returns:**

    A list aligned with `jax.tree_util.tree_leaves(tree)`.
    """
    axes: list[int | None] = []

    def visit(spec_leaf: Any, subtree: Any) -> None:
        leaves = jtu.tree_leaves(subtree)
        if spec_leaf is None or type(spec_leaf) is int:
            axes.extend([spec_leaf] * len(leaves))
        elif callable(spec_leaf):
            for leaf in leaves:
                axis = spec_leaf(leaf)
                if axis is not None and type(axis) is not int:
                    raise TransformError(
                        f"A callable in {what} must return an int or None; "
                        f"{spec_leaf!r} returned {axis!r} for a {describe_leaf(leaf)}."
                    )
                axes.append(axis)
        else:
            raise TransformError(
                f"The leaves of {what} must be ints, None, or callables "
                f"`leaf -> int | None` such as `typedeqx.if_array(0)`; got "
                f"{describe_leaf(spec_leaf)}."
            )

    try:
        jtu.tree_map(visit, spec, tree, is_leaf=_is_spec_leaf)
    except ValueError as e:
        if isinstance(e, TransformError):
            raise
        target = (
            "the positional arguments (a tuple)" if what == "in_axes" else "the output"
        )
        raise TransformError(
            f"{what} must be a PyTree prefix of {target}; its structure does not "
            f"match: {e}"
        ) from None
    return axes


def named_in_axes(fun: Any, in_axes: Any, args: Sequence[Any]) -> Any:
    """Turn a dict `{parameter name: spec}` into a tuple over `args`; other
    arguments get `if_array(0)`. Other specs are returned as they are."""
    if isinstance(in_axes, list):
        return tuple(in_axes)
    if not isinstance(in_axes, dict):
        return in_axes
    names = list(inspect.signature(fun).parameters)[: len(args)]
    unknown = sorted(set(in_axes) - set(names))
    if unknown:
        raise TransformError(
            f"in_axes names {unknown}, which are not among the positional arguments "
            f"passed ({names})."
        )
    return tuple(in_axes.get(name, if_array(0)) for name in names)


def _move_from_front(x: Any, axis: int) -> Any:
    return x if axis == 0 else jnp.moveaxis(x, 0, axis)


def split_output(out: Any, out_axes: Any) -> tuple[list[Any], list[Any], Any]:
    """Split `fun`'s output into mapped arrays, unmapped arrays, and the rest
    (structure, axes and non-array leaves), checking that only arrays are mapped."""
    leaves, treedef = jtu.tree_flatten(out)
    axes = resolve_axes(out_axes, out, "out_axes")
    for path_leaf, axis in zip(jtu.tree_flatten_with_path(out)[0], axes):
        path, leaf = path_leaf
        if axis is not None and not is_array(leaf):
            raise TransformError(
                f"out_axes maps the output leaf at {jtu.keystr(path) or 'the root'} "
                f"along axis {axis}, but it is a {describe_leaf(leaf)}; only arrays "
                "can be mapped. Use None (or typedeqx.if_array) for it."
            )
    mapped = [x for x, a in zip(leaves, axes) if a is not None]
    unmapped = [x for x, a in zip(leaves, axes) if a is None and is_array(x)]
    static = [None if is_array(x) else x for x in leaves]
    return mapped, unmapped, (treedef, axes, static)


def join_output(mapped: list[Any], unmapped: list[Any], meta: Any) -> Any:
    """Inverse of [`split_output`][], moving each mapped axis from the front to its
    `out_axes` position."""
    treedef, axes, static = meta
    mapped_iter, unmapped_iter = iter(mapped), iter(unmapped)
    leaves = []
    for axis, s in zip(axes, static):
        if axis is not None:
            leaves.append(_move_from_front(next(mapped_iter), axis))
        elif s is None:
            leaves.append(next(unmapped_iter))
        else:
            leaves.append(s)
    return jtu.tree_unflatten(treedef, leaves)


_ARGS_KEY = jtu.SequenceKey(0)


@dataclasses.dataclass
class MappedArgs:
    """Positional arguments split for a mapping transformation: the leaves passed
    through it (`dynamic`, at positions `mapped`, with their `axes`), and the rest,
    held fixed."""

    treedef: Any
    size: int
    mapped: list[int]
    axes: list[int | None]
    fixed: list[int]
    fixed_leaves: list[Any]
    dynamic: list[Any]

    def traced(self, fun: Callable[..., Any], out_axes: Any) -> Callable[..., Any]:
        """`fun` as a function of the mapped leaves, returning
        `(mapped outputs, unmapped outputs, Static(rest))`."""

        def call(dynamic: list[Any]) -> Any:
            merged = merge_leaves(
                self.size, self.mapped, dynamic, self.fixed, self.fixed_leaves
            )
            out = fun(*jtu.tree_unflatten(self.treedef, merged))
            mapped_out, unmapped_out, meta = split_output(out, out_axes)
            return mapped_out, unmapped_out, Static(meta)

        return call


def split_mapped_args(
    name: str,
    fun: Any,
    in_axes: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    pass_all_arrays: bool = False,
) -> MappedArgs:
    """Resolve `in_axes` against `args` and split them, rejecting keyword arguments
    and a non-array leaf given an axis (named by its path).

    The mapped arrays are passed through; with `pass_all_arrays` (for a compiled,
    cached transformation, whose fixed leaves must be hashable) so are the arrays
    with axis `None`."""
    if kwargs:
        raise TransformError(
            f"{name} takes positional arguments only (in_axes describes them by "
            f"position); got keyword arguments {sorted(kwargs)}."
        )
    axes = resolve_axes(named_in_axes(fun, in_axes, args), args, "in_axes")
    with_paths, treedef = jtu.tree_flatten_with_path(args)
    for (path, leaf), axis in zip(with_paths, axes):
        if axis is not None and not is_array(leaf):
            where = call_path((_ARGS_KEY, *path))
            raise TransformError(
                f"{name}: in_axes maps {where} along axis {axis}, but it is a "
                f"{describe_leaf(leaf)}; only arrays can be mapped. Use None (or "
                "typedeqx.if_array) for it."
            )
    leaves = [leaf for _, leaf in with_paths]
    if pass_all_arrays:
        mapped = [i for i, x in enumerate(leaves) if is_array(x)]
    else:
        mapped = [i for i, a in enumerate(axes) if a is not None]
    chosen = set(mapped)
    fixed = [i for i in range(len(leaves)) if i not in chosen]
    return MappedArgs(
        treedef=treedef,
        size=len(leaves),
        mapped=mapped,
        axes=[axes[i] for i in mapped],
        fixed=fixed,
        fixed_leaves=[leaves[i] for i in fixed],
        dynamic=[leaves[i] for i in mapped],
    )


class _VmapWrapper(TransformWrapper):
    def __init__(
        self,
        fun: Callable[..., Any],
        in_axes: Any,
        out_axes: Any,
        axis_name: Hashable | None,
        axis_size: int | None,
        vmapkwargs: dict[str, Any],
    ) -> None:
        super().__init__(fun)
        self._fun = fun
        self._in_axes = in_axes
        self._out_axes = out_axes
        self._axis_name = axis_name
        self._axis_size = axis_size
        self._vmapkwargs = vmapkwargs
        self._name = f"filter_vmap({fun_name(fun)})"

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        split = split_mapped_args(self._name, self._fun, self._in_axes, args, kwargs)
        call = split.traced(self._fun, self._out_axes)
        if not split.mapped and self._axis_size is None:
            mapped_out, unmapped_out, meta = call(split.dynamic)
            if mapped_out:
                raise TransformError(
                    f"{self._name}: nothing was mapped (no in_axes selected an array "
                    "and no axis_size was given), so the outputs cannot be given a "
                    "mapped axis. Pass axis_size=..., or out_axes=None."
                )
            return join_output(mapped_out, unmapped_out, meta.value)
        vmapped = jax.vmap(
            call,
            in_axes=(split.axes,),
            out_axes=(0, None, None),
            axis_name=self._axis_name,
            axis_size=self._axis_size,
            **self._vmapkwargs,
        )
        mapped_out, unmapped_out, meta = vmapped(split.dynamic)
        return join_output(mapped_out, unmapped_out, meta.value)


@overload
def filter_vmap(
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def filter_vmap(
    fun: Callable[..., Any],
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[..., Any]: ...


def filter_vmap(
    fun: Callable[..., Any] | None = None,
    *,
    in_axes: Any = _LEADING,
    out_axes: Any = _LEADING,
    axis_name: Hashable | None = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Any:
    """Vectorise `fun`: by default every array is mapped along its leading axis and
    every other leaf is broadcast.

    **Arguments:**

    - `fun`: the function to vectorise; it takes positional arguments only. May be
        omitted, to use `filter_vmap(in_axes=...)` as a decorator.
    - `in_axes`: a PyTree prefix of the tuple of positional arguments (or a dict
        from parameter name to spec; unnamed arguments get `if_array(0)`), whose
        leaves are an `int` axis, `None` (broadcast), or a callable
        `leaf -> int | None` such as [`if_array`][]. Only arrays can be mapped.
    - `out_axes`: the same, as a prefix of the output: where the mapped axis goes
        in each output array. Non-array outputs must be `None` (as `if_array` makes
        them) and are returned as they are.
    - `axis_name`: a name for the mapped axis, for collectives such as
        `jax.lax.psum`.
    - `axis_size`: the size of the mapped axis; needed only when no argument is
        mapped.
    - `**vmapkwargs`: passed on to `jax.vmap` (say `spmd_axis_name`).

    **Returns:**

    The vectorised function. Each mapped output array gains an axis of size
    `axis_size` (or the common size of the mapped inputs) at its `out_axes`.

    ```python
    @typedeqx.filter_vmap
    def make_ensemble(key):
        return typedeqx.nn.MLP(2, 2, 2, 2, key=key)

    ensemble = make_ensemble(jax.random.split(key, 8))  # weights gain a leading 8
    ```
    """
    if fun is None:
        return lambda f: filter_vmap(
            f,
            in_axes=in_axes,
            out_axes=out_axes,
            axis_name=axis_name,
            axis_size=axis_size,
            **vmapkwargs,
        )
    return _VmapWrapper(fun, in_axes, out_axes, axis_name, axis_size, vmapkwargs)
