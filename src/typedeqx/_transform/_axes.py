"""Axis specs and the argument and output splitting shared by `filter_vmap` and
`filter_pmap`.

`in_axes` and `out_axes` are PyTree prefixes of the arguments and of the output
whose leaves are an `int` (map every array below along that axis), `None`
(broadcast) or a callable `leaf -> int | None` evaluated on every leaf below. They
are resolved to one axis per leaf; the mapped leaves go through the JAX
transformation, the others are held fixed. Outputs come back mapped along axis 0
and are moved to their `out_axes` afterwards; non-array outputs ride in the
output's structure.
"""

import dataclasses
import inspect
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._errors import TransformError
from .._filters import is_array
from ._split import Static, call_path, describe_leaf, merge_leaves
from ._wrapper_base import ArgumentTypeError

_SCALARS = (bool, int, float, complex)


@dataclasses.dataclass(frozen=True)
class if_array:
    """An axis spec for `filter_vmap` and `filter_pmap`: `axis` for arrays, `None`
    (broadcast or unmapped) for every other leaf.

    ```python
    import jax
    import jax.numpy as jnp
    import typedeqx

    assert typedeqx.if_array(1)(jnp.zeros((2, 3))) == 1
    assert typedeqx.if_array(1)(jax.nn.relu) is None
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
    for i, (path_leaf, axis) in enumerate(
        zip(jtu.tree_flatten_with_path(out)[0], axes)
    ):
        path, leaf = path_leaf
        if axis is None or is_array(leaf):
            continue
        if isinstance(leaf, _SCALARS):
            # As `jax.vmap`: a Python scalar is a constant, broadcast along the axis.
            leaves[i] = jnp.asarray(leaf)
            continue
        raise ArgumentTypeError(
            f"out_axes maps the output leaf at {jtu.keystr(path) or 'the root'} "
            f"along axis {axis}, but it is a {describe_leaf(leaf)}; only arrays "
            "and Python scalars can be mapped. Use None (or typedeqx.if_array) "
            "for it."
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

    def traced(
        self, rebuild_fun: Callable[[Sequence[Any]], Any], out_axes: Any
    ) -> Callable[..., Any]:
        """The function as one of the mapped leaves and of its own arrays
        (`rebuild_fun(fun_arrays)` gives it back), returning
        `(mapped outputs, unmapped outputs, Static(rest))`."""

        def call(dynamic: list[Any], fun_arrays: Sequence[Any] = ()) -> Any:
            merged = merge_leaves(
                self.size, self.mapped, dynamic, self.fixed, self.fixed_leaves
            )
            fun = rebuild_fun(fun_arrays)
            out = fun(*jtu.tree_unflatten(self.treedef, merged))
            mapped_out, unmapped_out, meta = split_output(out, out_axes)
            return mapped_out, unmapped_out, Static(meta)

        return call

    def transform(
        self,
        transformation: Callable[..., Any],
        call: Callable[..., Any],
        axis_name: Hashable | None,
        axis_size: int | None,
        kwargs: dict[str, Any],
        *,
        placeholder: bool = False,
    ) -> Callable[..., Any]:
        """`transformation` (`jax.vmap` or `jax.pmap`) of a `call` made by
        `traced`, taking `(mapped leaves, fun_arrays)`, plus an unused array
        mapped along axis 0 when `placeholder` (for `jax.pmap`, which needs one
        mapped input)."""
        target = call
        in_axes: tuple[Any, ...] = (self.axes, None)
        if placeholder:
            in_axes = (self.axes, None, 0)

            def target(dynamic: Any, fun_arrays: Any, unused: Any) -> Any:
                del unused
                return call(dynamic, fun_arrays)

        mapped: Callable[..., Any] = transformation(
            target,
            in_axes=in_axes,
            out_axes=(0, None, None),
            axis_name=axis_name,
            axis_size=axis_size,
            **kwargs,
        )
        return mapped


def _check_rank(name: str, path: Any, leaf: Any, axis: int) -> None:
    ndim = np.ndim(leaf)
    if not -ndim <= axis < ndim:
        raise TransformError(
            f"{name}: in_axes maps {call_path((_ARGS_KEY, *path))} along axis "
            f"{axis}, but it is a {describe_leaf(leaf)}, which has no axis {axis}. "
            "Give it an axis of that index, or map it along another axis (None to "
            "broadcast it)."
        )


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
        if axis is not None:
            _check_rank(name, path, leaf, axis)
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
