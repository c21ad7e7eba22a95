"""Loading the leaves of a PyTree: every leaf read once through a `TreeReader`, every
difference from `like` collected, and one `CheckpointError` before anything is
returned."""

import pathlib
from collections.abc import Callable
from typing import Any, NoReturn, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from .._filters import is_array_like
from ._error import CheckpointError
from ._fit import Fit
from ._modules import check_modules
from ._npy import Header, RecordError, parse_header
from ._reader import Source, TreeReader, tell
from ._save import spec_leaves, with_suffix


@runtime_checkable
class SupportsReadSeek(Protocol):
    def seek(self, offset: int, whence: int, /) -> object: ...
    def read(self, length: int = ..., /) -> bytes: ...


def read_npy(f: Any) -> np.ndarray:
    """One `.npy` record from `f`, parsed with bounded lengths; a damaged record is
    a `CheckpointError`, never an error from inside NumPy."""
    pos = tell(f)
    header = f.header_here() if isinstance(f, TreeReader) else None
    if header is None:
        header = _parse(f, pos)
    shape = header.shape[::-1] if header.fortran else header.shape
    out = np.empty(shape, header.dtype)
    view = out.reshape(-1).view(np.uint8).data
    got = f.readinto(view) if hasattr(f, "readinto") else _read_into(f, view)
    if got < len(view):
        _fail(pos, f"the file ends inside its data ({len(view) - got} bytes short)")
    return out.T if header.fortran else out


def _fail(pos: int, reason: str) -> NoReturn:
    error = CheckpointError(f"Cannot read the .npy record at byte {pos}: {reason}.")
    setattr(error, "reason", reason)  # for the message that lists every leaf
    raise error


def _parse(f: Any, pos: int) -> Header:
    f.seek(0, 2)
    size = tell(f)
    f.seek(pos)
    try:
        return parse_header(f.read, pos, size - pos)
    except RecordError as e:
        _fail(pos, str(e))


def _read_into(f: Any, view: memoryview) -> int:
    done = 0
    while done < len(view):
        data = f.read(len(view) - done)
        if not data:
            break
        view[done : done + len(data)] = data
        done += len(data)
    return done


def loads_data(x: Any) -> bool:
    """Whether the default filter spec reads a record for the `like` leaf `x`."""
    return isinstance(
        x, (jax.Array, jax.ShapeDtypeStruct, np.ndarray)
    ) or is_array_like(x)


def convert(x: Any, out: np.ndarray) -> Any:
    """A loaded record as the kind of leaf `x` is, as Equinox converts it."""
    if isinstance(x, (jax.Array, jax.ShapeDtypeStruct)):
        if out.dtype == "V2":  # bfloat16 is stored as 2-byte void (as `jnp.load`)
            out = out.view(jnp.bfloat16)
        try:  # as `jnp.asarray`, without its temporary second copy
            array = jax.device_put(out)
        except (TypeError, AssertionError):
            return out
        array.block_until_ready()  # frees this read buffer before the next is made
        return array
    if isinstance(x, np.ndarray):
        return out
    if isinstance(x, np.generic) and out.dtype.kind == "V":
        out = out.view(x.dtype)  # dtypes NumPy lacks (bfloat16) are stored as void
    return type(x)(out.item())


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
    if not loads_data(x):
        return x
    return convert(x, read_npy(f))


def _map(fit: Fit, filter_spec: Any, like: Any, is_leaf: Any) -> Any:
    """`like` with every leaf replaced by `fit.load`, in depth-first order."""
    leaves = iter(
        [fit.load(p, s, x) for p, s, x in spec_leaves(filter_spec, like, is_leaf)]
    )
    spec_def: Any = jax.tree_util.tree_structure(filter_spec)  # JAX's stubs lack
    out = []  # `flatten_up_to`
    for sub in spec_def.flatten_up_to(like):
        treedef: Any = jax.tree_util.tree_structure(sub, is_leaf=is_leaf)
        out.append(treedef.unflatten([next(leaves) for _ in range(treedef.num_leaves)]))
    return spec_def.unflatten(out)


def _load(
    f: Any,
    name: str,
    like: Any,
    filter_spec: Any,
    is_leaf: Any,
    strict: bool,
    whole: bool,
) -> Any:
    reader = TreeReader(Source(f), name)
    fit = Fit(reader, like, is_leaf, strict)
    out = _map(fit, filter_spec, like, is_leaf)
    fit.finish(whole)
    return out


def tree_deserialise_leaves(
    path_or_file: str | pathlib.Path | SupportsReadSeek,
    like: Any,
    filter_spec: Any = default_deserialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
    *,
    strict: bool = True,
) -> Any:
    """Load the leaves of a PyTree from a file written by `tree_serialise_leaves`
    (typedeqx's or Equinox's).

    **Arguments:**

    - `path_or_file`: a path (`.eqx` is added when it has no suffix) or a binary
        file-like object that can seek, positioned at the tree (a stream may hold
        several trees, read one after another).
    - `like`: a PyTree of the same structure and leaf types as the saved one, for
        example built by `filter_eval_shape` so that no weights are allocated. It is
        never modified.
    - `filter_spec`: how to load each leaf, a function `(file, leaf) -> new_leaf`, or
        a PyTree prefix of `like` of such functions. By default array and scalar
        leaves are loaded and other leaves kept from `like`.
    - `is_leaf`: called on every node of `like`; `True` makes it a leaf.
    - `strict`: for a file saved by typedeqx, whether its leaves' key paths and its
        static configuration (node types, Modules' static fields, the types of
        non-array leaves) must equal `like`'s. `strict=False` is for deliberate
        migrations: leaves are then matched by position, as Equinox matches them;
        their shapes, dtypes and checksums are still checked.

    **Returns:**

    A PyTree like `like` with the loaded leaves in place.

    Raises `CheckpointError`, before anything is returned, listing every difference
    between the file and `like` by path, for a truncated, damaged or foreign file
    (naming the byte offset), and for trailing data after the tree in a file opened
    by path; and `ShapeError` when a loaded checked Module breaks its field
    annotations.
    """
    if isinstance(path_or_file, (str, pathlib.Path)):
        path = with_suffix(path_or_file)
        with open(path, "rb", buffering=0) as raw:
            out = _load(raw, f"'{path}'", like, filter_spec, is_leaf, strict, True)
    else:
        out = _load(
            path_or_file, "the file object", like, filter_spec, is_leaf, strict, False
        )
    check_modules(out)
    return out
