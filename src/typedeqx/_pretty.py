"""Pretty-printing PyTrees: arrays as `dtype[shape]`, dataclasses by their fields.

Printing works in two passes. The first turns the value into a small document: an
atom (a string) or a group (an opening string, items, a closing string), and
computes each group's one-line form once, bottom up. The second lays the document
out: a group that fits in the remaining width is printed on one line, otherwise its
items go one per line, indented. This keeps printing linear in the size of the tree.
"""

import dataclasses
import functools
import types
from collections.abc import Callable
from typing import Any, cast

import jax
import numpy as np

_DTYPE_SHORT = {
    "bool": "bool",
    "bfloat16": "bf16",
    "float16": "f16",
    "float32": "f32",
    "float64": "f64",
    "complex64": "c64",
    "complex128": "c128",
    **{f"int{n}": f"i{n}" for n in (4, 8, 16, 32, 64)},
    **{f"uint{n}": f"u{n}" for n in (4, 8, 16, 32, 64)},
}


def dtype_name(dtype: Any) -> str:
    """The short name of a dtype: `f32`, `bf16`, `i64`, `u8`, `bool`, `c64`, ...
    (dtypes without a short name, such as `float8_e4m3fn` or `key<fry>`, keep their
    own name)."""
    name = str(getattr(dtype, "name", dtype))
    return _DTYPE_SHORT.get(name, name)


def array_summary(x: Any) -> str:
    """`dtype[shape]` for an array, e.g. `f32[3,4]`; `f32[]` for a scalar; NumPy
    arrays and scalars are marked, e.g. `f32[3](numpy)`. Never shows values."""
    dims = ",".join(str(d) for d in np.shape(x))
    weak = "weak_" if getattr(x, "weak_type", False) else ""
    text = f"{weak}{dtype_name(x.dtype)}[{dims}]"
    if isinstance(x, (np.ndarray, np.generic)):
        text += "(numpy)"
    return text


@dataclasses.dataclass
class _Group:
    open: str
    items: list[tuple[str, "_Doc"]]  # (prefix such as "name=", item)
    close: str
    flat_close: str | None = None  # how to close on one line, if not `close`
    flat: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        body = ", ".join(key + _flat(item) for key, item in self.items)
        close = self.close if self.flat_close is None else self.flat_close
        self.flat = self.open + body + close


_Doc = str | _Group


def _flat(doc: _Doc) -> str:
    return doc if isinstance(doc, str) else doc.flat


def _function_text(x: Any) -> str | None:
    """How a function prints: by qualified name, saying when it is wrapped (as
    `jax.jit` and `jax.vmap` outputs are); `None` if `x` is not a function."""
    if isinstance(x, (jax.custom_jvp, jax.custom_vjp)):
        x = cast(Any, x).__wrapped__
    if isinstance(x, types.BuiltinFunctionType):
        return f"<built-in function {x.__name__}>"
    if callable(x) and not isinstance(x, type) and hasattr(x, "__wrapped__"):
        name = getattr(x, "__qualname__", getattr(x, "__name__", type(x).__name__))
        return f"<wrapped function {name}>"
    if isinstance(x, types.FunctionType):
        return f"<function {x.__qualname__}>"
    return None


def _false(_: Any) -> bool:
    return False


class _Formatter:
    def __init__(
        self,
        short_arrays: bool,
        struct_as_array: bool,
        truncate_leaf: Callable[[Any], bool],
    ):
        self.short_arrays = short_arrays
        self.struct_as_array = struct_as_array
        self.truncate_leaf = truncate_leaf
        self.active: set[int] = set()  # ids being formatted, to cut reference cycles

    def _is_array(self, x: Any) -> bool:
        if isinstance(x, jax.ShapeDtypeStruct):
            return self.struct_as_array
        return isinstance(x, (jax.Array, np.ndarray, np.generic))

    def doc(self, x: Any) -> _Doc:
        if self.truncate_leaf(x):
            return f"{type(x).__name__}(...)"
        if self._is_array(x):
            return array_summary(x) if self.short_arrays else repr(x)
        if id(x) in self.active:
            return "..."
        self.active.add(id(x))
        try:
            return self._container(x)
        finally:
            self.active.discard(id(x))

    def _container(self, x: Any) -> _Doc:
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            fields = [f.name for f in dataclasses.fields(x) if f.repr]
            named = [(f"{n}=", self._attr(x, n)) for n in fields]
            return _Group(type(x).__name__ + "(", named, ")")
        names = getattr(type(x), "_fields", None)
        if isinstance(x, tuple) and names is not None:  # namedtuple
            named = [(f"{n}=", self.doc(v)) for n, v in zip(names, x, strict=True)]
            return _Group(type(x).__name__ + "(", named, ")")
        if isinstance(x, (list, tuple)):
            return self._sequence(x)
        if isinstance(x, dict):
            keyed = [(repr(k) + ": ", self.doc(v)) for k, v in x.items()]
            return _Group("{", keyed, "}")
        if isinstance(x, functools.partial):
            args = [("", self.doc(x.func))] + [("", self.doc(a)) for a in x.args]
            args += [(f"{k}=", self.doc(v)) for k, v in x.keywords.items()]
            return _Group("partial(", args, ")")
        return _function_text(x) or repr(x)

    def _attr(self, x: Any, name: str) -> _Doc:
        try:
            value = getattr(x, name)
        except AttributeError:  # e.g. printed from inside `__init__`
            return "<uninitialised>"
        return self.doc(value)

    def _sequence(self, x: list[Any] | tuple[Any, ...]) -> _Doc:
        items: list[tuple[str, _Doc]] = [("", self.doc(v)) for v in x]
        if isinstance(x, list):
            return _Group("[", items, "]")
        # `(a,)` keeps its comma on one line, so that it still reads as a tuple.
        return _Group("(", items, ")", ",)" if len(x) == 1 else None)


def _layout(doc: _Doc, column: int, level: int, width: int, indent: int) -> str:
    if isinstance(doc, str) or column + len(doc.flat) <= width or not doc.items:
        return _flat(doc)
    pad = " " * (indent * (level + 1))
    lines = []
    for i, (key, item) in enumerate(doc.items):
        comma = 0 if i == len(doc.items) - 1 else 1
        body = _layout(item, len(pad) + len(key) + comma, level + 1, width, indent)
        lines.append(pad + key + body)
    return (
        doc.open + "\n" + ",\n".join(lines) + "\n" + " " * (indent * level) + doc.close
    )


def tree_pformat(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = _false,
) -> str:
    """Format a PyTree as text, breaking lines only where needed to fit `width`.

    **Arguments:**

    - `pytree`: any PyTree (or any Python value).
    - `width`: the preferred maximum line length; a single atom longer than this is
        not broken.
    - `indent`: spaces per level of nesting when a container is split over lines.
    - `short_arrays`: print JAX and NumPy arrays as their dtype and shape, e.g.
        `f32[3,4]` (NumPy ones as `f32[3,4](numpy)`), never their values. When
        `False`, arrays print with their own `repr`. Weakly typed JAX arrays
        (from Python scalars) print as e.g. `weak_i32[]`.
    - `struct_as_array`: print `jax.ShapeDtypeStruct`s like arrays, e.g. `f32[2]`,
        instead of with their own `repr`.
    - `truncate_leaf`: a predicate on nodes; a node for which it is true prints as
        `ClassName(...)`, without its contents.

    **Returns:**

    A string. Dataclasses (so every `Module`) print as `ClassName(field=...)` over
    the fields declared with `repr=True`; lists, tuples, namedtuples and dicts print
    as themselves; functions print as `<function qualified.name>`, and wrapped
    ones (`jax.jit`, `jax.vmap` outputs) as `<wrapped function name>`.

    ```python
    >>> import jax.numpy as jnp
    >>> tree_pformat({"w": jnp.zeros((3, 4)), "act": jax.nn.relu})
    "{'w': f32[3,4], 'act': <wrapped function relu>}"

    ```
    """
    formatter = _Formatter(short_arrays, struct_as_array, truncate_leaf)
    return _layout(formatter.doc(pytree), 0, 0, width, indent)


def tree_pprint(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = _false,
) -> None:
    """Print [`tree_pformat`][]`(pytree, ...)`: arrays as `f32[3,4]`, never their
    values.

    **Arguments:** as for [`tree_pformat`][].

    **Returns:**

    Nothing; the text goes to standard output.
    """
    text = tree_pformat(
        pytree,
        width=width,
        indent=indent,
        short_arrays=short_arrays,
        struct_as_array=struct_as_array,
        truncate_leaf=truncate_leaf,
    )
    print(text)
