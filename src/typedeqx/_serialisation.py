"""Saving and loading the leaves of a PyTree, byte-compatible with Equinox.

The file holds one NumPy `.npy` record per saved leaf, in depth-first order, as
Equinox writes it, followed by a manifest (see `_manifest.py`) that Equinox's reader
never reaches. Saving to a path is atomic (`_atomic.py`); loading checks the whole
file against `like` before returning anything (`_leaf_check.py`).
"""

import hashlib
import io
import pathlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from ._atomic import atomic_write
from ._checkpoint_error import CheckpointError
from ._contracts import ShapeError
from ._filters import combine, is_array, is_array_like, partition
from ._leaf_check import LeafReader
from ._manifest import Entry, Manifest, ReadSeek, encode, npy_header, scan, verify_data
from ._module import Module

# Untyped in JAX's stubs (`PyTreeDef.flatten_up_to` is missing there).
_flatten_with_path: Any = jtu.tree_flatten_with_path


@runtime_checkable
class SupportsWrite(Protocol):
    def write(self, s: bytes, /) -> object: ...


@runtime_checkable
class SupportsReadSeek(Protocol):
    def seek(self, offset: int, whence: int, /) -> object: ...
    def read(self, length: int = ..., /) -> bytes: ...


def default_serialise_filter_spec(f: SupportsWrite, x: Any) -> None:
    """Save one leaf: arrays and Python `bool`/`int`/`float`/`complex` as a `.npy`
    record; anything else is skipped.

    **Arguments:**

    - `f`: a binary file-like object to write to.
    - `x`: the leaf to save.

    **Returns:**

    Nothing.
    """
    if is_array_like(x):
        # NumPy's writer, as `jnp.save`; a bfloat16 array is stored as 2-byte void.
        sink: Any = f  # NumPy's writer accepts any object with `write`
        np.save(sink, x)


def default_deserialise_filter_spec(f: SupportsReadSeek, x: Any) -> Any:
    """Load one leaf of the kind `x` is: a JAX array for a JAX array or
    `jax.ShapeDtypeStruct`, a NumPy array for a NumPy array, a scalar of `x`'s type
    for a scalar; any other leaf is kept as it is.

    **Arguments:**

    - `f`: a binary file-like object positioned at the leaf's record.
    - `x`: the leaf of `like` that the record replaces.

    **Returns:**

    The loaded leaf, or `x` unchanged.
    """
    source: Any = f  # NumPy's loader accepts any readable, seekable object
    if isinstance(x, (jax.Array, jax.ShapeDtypeStruct)):
        return jnp.load(source)
    if isinstance(x, np.ndarray):
        return np.load(source)
    if is_array_like(x):
        out = np.load(source)
        if isinstance(x, np.generic) and out.dtype.kind == "V":
            out = out.view(x.dtype)  # dtypes NumPy lacks (bfloat16) are stored as void
        return type(x)(out.item())
    return x


def _with_suffix(path: str | pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(path)
    return path.with_suffix(".eqx") if path.suffix == "" else path


def _spec_leaves(
    filter_spec: Any, tree: Any, is_leaf: Callable[[Any], bool] | None
) -> Iterator[tuple[str, Callable[..., Any], Any]]:
    """Each leaf in depth-first order, with its key path and its filter spec."""
    specs, spec_def = _flatten_with_path(filter_spec)
    for (outer, spec), sub in zip(specs, spec_def.flatten_up_to(tree)):
        for inner, leaf in jtu.tree_flatten_with_path(sub, is_leaf=is_leaf)[0]:
            yield jtu.keystr(tuple(outer) + tuple(inner)), spec, leaf


def _map_spec_leaves(
    fn: Callable[[str, Callable[..., Any], Any], Any],
    filter_spec: Any,
    tree: Any,
    is_leaf: Callable[[Any], bool] | None,
) -> Any:
    specs, spec_def = _flatten_with_path(filter_spec)
    out = []
    for (outer, spec), sub in zip(specs, spec_def.flatten_up_to(tree)):
        inner, inner_def = jtu.tree_flatten_with_path(sub, is_leaf=is_leaf)
        new = [fn(jtu.keystr(tuple(outer) + tuple(p)), spec, x) for p, x in inner]
        out.append(jtu.tree_unflatten(inner_def, new))
    return jtu.tree_unflatten(spec_def, out)


def _entry(path: str, leaf: Any, data: bytes, offset: int) -> Entry:
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    header = npy_header(data)
    if header is not None:
        shape, header_dtype = header
        known = hasattr(leaf, "dtype") and np.shape(leaf) == shape
        dtype = str(leaf.dtype) if known else str(header_dtype)
    return Entry(path, offset, len(data), shape, dtype)


def _write_tree(
    f: SupportsWrite,
    pytree: Any,
    filter_spec: Any,
    is_leaf: Callable[[Any], bool] | None,
) -> None:
    entries = []
    hasher = hashlib.sha256()
    offset = 0
    for path, spec, leaf in _spec_leaves(filter_spec, pytree, is_leaf):
        buffer = io.BytesIO()
        try:
            spec(buffer, leaf)
        except Exception as e:
            raise CheckpointError(
                f"Cannot save the leaf at {path or 'the root'} "
                f"({type(leaf).__name__}): the filter spec raised "
                f"{type(e).__name__}: {e}. Nothing was written to a path argument."
            ) from e
        data = buffer.getvalue()
        if data:
            f.write(data)
            hasher.update(data)
            entries.append(_entry(path, leaf, data, offset))
            offset += len(data)
    treedef = str(jtu.tree_structure(pytree, is_leaf=is_leaf))
    f.write(encode(Manifest(tuple(entries), treedef, offset, hasher.hexdigest())))


def tree_serialise_leaves(
    path_or_file: str | pathlib.Path | SupportsWrite,
    pytree: Any,
    filter_spec: Any = default_serialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
) -> None:
    """Save the leaves of a PyTree to a file, in the format Equinox reads.

    **Arguments:**

    - `path_or_file`: a path (`.eqx` is added when it has no suffix) or a binary
        file-like object. A path is replaced atomically: the old file stays whole
        until the new one is complete, even if the process is killed.
    - `pytree`: the PyTree whose leaves are saved.
    - `filter_spec`: how to save each leaf, a function `(file, leaf) -> None`, or a
        PyTree prefix of `pytree` of such functions. By default arrays and Python
        scalars are saved and other leaves skipped.
    - `is_leaf`: called on every node of `pytree`; `True` makes it a leaf.

    **Returns:**

    Nothing.
    """
    if isinstance(path_or_file, (str, pathlib.Path)):
        with atomic_write(_with_suffix(path_or_file)) as f:
            _write_tree(f, pytree, filter_spec, is_leaf)
    else:
        _write_tree(path_or_file, pytree, filter_spec, is_leaf)


class _Positioned:
    """A readable, seekable file with `tell`, for objects that only promise `seek`."""

    def __init__(self, f: Any):
        self._f = f

    def read(self, size: int = -1, /) -> bytes:
        data: bytes = self._f.read(size)
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        self._f.seek(offset, whence)
        return self.tell()

    def tell(self) -> int:
        if hasattr(self._f, "tell"):
            return int(self._f.tell())
        return int(self._f.seek(0, 1))


def _read_tree(
    f: ReadSeek,
    like: Any,
    filter_spec: Any,
    is_leaf: Callable[[Any], bool] | None,
    name: str,
    whole_file: bool,
) -> Any:
    layout = scan(f, name)
    if layout.manifest is not None:
        verify_data(f, layout, name)
    reader = LeafReader(f, layout, name)
    out = _map_spec_leaves(reader.load, filter_spec, like, is_leaf)
    reader.finish(whole_file)
    return out


def _check_modules(tree: Any, inside: Any = None) -> None:
    """Re-run the field contract of every checked Module in `tree`, innermost first:
    unflattening a loaded tree skips `__init__`, where the contract normally runs."""

    def is_module(node: Any) -> bool:
        return isinstance(node, Module) and node is not inside

    for node in jtu.tree_leaves(tree, is_leaf=is_module):
        if is_module(node):
            _check_modules(node, node)
            if type(node).__typedeqx_check_fields__ is not None:
                _check_fields(node)


def _check_fields(module: Any) -> None:
    """Check one module's fields, as constructed: a module stacked by `filter_vmap`
    (every array with the same extra leading axis, as in an ensemble or a scanned
    stack of layers) was checked per member, so it is checked per member here.

    A field that is `None` where its annotation wants a value was filtered out, as
    in an optimiser state built from `filter(model, is_array)`: such a partial copy
    never had a contract, so it is not held to one."""
    try:
        type(module).__typedeqx_check_fields__(module)
    except ShapeError as error:
        if getattr(module, error.parameter, ...) is None:
            return
        if not _check_stacked(module):
            raise


def _check_stacked(module: Any) -> bool:
    arrays, rest = partition(module, is_array)
    leaves = jtu.tree_leaves(arrays)
    leading = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
    if len(leading) != 1 or None in leading:
        return False
    try:
        jax.vmap(lambda member: _check_fields(combine(member, rest)))(arrays)
    except ShapeError:
        return False
    return True


def tree_deserialise_leaves(
    path_or_file: str | pathlib.Path | SupportsReadSeek,
    like: Any,
    filter_spec: Any = default_deserialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Load the leaves of a PyTree from a file written by `tree_serialise_leaves`
    (typedeqx's or Equinox's).

    **Arguments:**

    - `path_or_file`: a path (`.eqx` is added when it has no suffix) or a binary
        file-like object that can seek.
    - `like`: a PyTree of the same structure and leaf types as the saved one, for
        example built by `filter_eval_shape` so that no weights are allocated. It is
        never modified.
    - `filter_spec`: how to load each leaf, a function `(file, leaf) -> new_leaf`, or
        a PyTree prefix of `like` of such functions. By default array and scalar
        leaves are loaded and other leaves kept from `like`.
    - `is_leaf`: called on every node of `like`; `True` makes it a leaf.

    **Returns:**

    A PyTree like `like` with the loaded leaves in place.

    Raises `CheckpointError` listing every leaf whose key path, shape or dtype
    differs, for a truncated, corrupt or foreign file, and for trailing data; and
    `ShapeError` when a loaded checked Module breaks its field annotations.
    """
    if isinstance(path_or_file, (str, pathlib.Path)):
        path = _with_suffix(path_or_file)
        with open(path, "rb") as raw:
            out = _read_tree(raw, like, filter_spec, is_leaf, f"'{path}'", True)
    else:
        f = _Positioned(path_or_file)
        out = _read_tree(f, like, filter_spec, is_leaf, "the file object", False)
    _check_modules(out)
    return out
