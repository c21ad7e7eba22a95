"""What typedeqx records about a saved tree, beyond its leaves' bytes, and how it is
compared with `like`.

The manifest of a tree holds the key path of every saved leaf and the tree's static
configuration: one line per node and leaf, keyed by path (`MLP.layers[0]`,
`MLP.layers[0].in_features`), whose text is the node's type, a Module's static field
value, or a non-array leaf's type. It is compressed and cut into pieces, one in the
header comment of each record (`_npy.py`), so no bytes lie between two trees of one
stream.
"""

import base64
import dataclasses
import enum
import json
import types
import zlib
from collections.abc import Callable
from typing import Any, cast

import jax
import jax.tree_util as jtu
import numpy as np

from .._module import Module

PIECE = 8000  # characters of the manifest per record comment


@dataclasses.dataclass(frozen=True)
class Manifest:
    paths: list[str] | None  # None: too large to record; only `paths_crc` was kept
    static: dict[str, str] | None
    paths_crc: str
    static_crc: str


def root_name(tree: Any) -> str:
    """The prefix of every path in messages: the root Module's class name."""
    return type(tree).__name__ if isinstance(tree, Module) else ""


def _name(obj: Any) -> str:
    # The qualified name without the module: libraries move functions between
    # private modules across versions (`jax._src.nn.functions.relu`), which must not
    # make an old checkpoint's configuration differ.
    return str(getattr(obj, "__qualname__", None) or type(obj).__qualname__)


def describe_value(value: Any) -> str:
    """Stable text for a static field value: equal configurations give equal text
    in any process (no memory addresses)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe_value(v) for v in value)
        return (
            f"({inner},)"
            if isinstance(value, tuple) and len(value) == 1
            else (f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
        )
    if isinstance(value, (frozenset, set)):
        return "{" + ", ".join(sorted(describe_value(v) for v in value)) + "}"
    if isinstance(value, np.dtype) or (
        isinstance(value, type) and hasattr(value, "dtype")
    ):
        return f"dtype {np.dtype(value)}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        return _name(value)
    if callable(value) and hasattr(value, "__qualname__"):
        return _name(value)  # jax.jit-wrapped functions, custom_jvp, ufuncs
    return f"a {type(value).__qualname__}"


def describe_leaf(leaf: Any) -> str:
    """A leaf's static part: arrays are compared by shape and dtype elsewhere."""
    if isinstance(leaf, (jax.Array, np.ndarray, jax.ShapeDtypeStruct)):
        return "array"
    if isinstance(leaf, np.generic):
        return f"NumPy {leaf.dtype} scalar"
    if isinstance(leaf, (bool, int, float, complex)):
        return type(leaf).__name__
    if callable(leaf) and hasattr(leaf, "__qualname__"):
        return _name(leaf)
    return type(leaf).__qualname__


def static_map(tree: Any, is_leaf: Callable[[Any], bool] | None) -> dict[str, str]:
    """The tree's static configuration, one line per node and leaf, keyed by key
    path (the root is `""`)."""
    out: dict[str, str] = {}

    def visit(path: str, node: Any) -> None:
        if node is None:
            out[path] = "None"
            return
        children, treedef = jtu.tree_flatten_with_path(
            node,
            is_leaf=lambda x: x is not node or (is_leaf is not None and is_leaf(x)),
        )
        if jtu.treedef_is_leaf(treedef):
            out[path] = describe_leaf(node)
            return
        out[path] = type(node).__qualname__
        if isinstance(node, Module):
            for f in dataclasses.fields(cast(Any, node)):
                if f.metadata.get("static"):
                    out[f"{path}.{f.name}"] = describe_value(
                        getattr(node, f.name, None)
                    )
        for keys, child in children:
            visit(path + jtu.keystr(tuple(keys)), child)

    visit("", tree)
    return out


def _crc(text: str) -> str:
    return f"{zlib.crc32(text.encode()):08x}"


def paths_checksum(paths: list[str]) -> str:
    return _crc(json.dumps(paths))


def pieces(paths: list[str], static: dict[str, str], records: int) -> list[str]:
    """The manifest cut into at most `records` pieces; when the full text does not
    fit, the static configuration, then the paths, are kept as checksums only."""
    full: dict[str, Any] = {
        "v": 2,
        "paths": paths,
        "static": static,
        "paths_crc": paths_checksum(paths),
        "static_crc": _crc(json.dumps(static, sort_keys=True)),
    }
    for drop in ((), ("static",), ("static", "paths")):
        payload = {k: v for k, v in full.items() if k not in drop}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        text = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
        out = [text[i : i + PIECE] for i in range(0, len(text), PIECE)] or [""]
        if len(out) <= records:
            return out + [""] * (records - len(out))
    raise AssertionError("a manifest of checksums always fits one piece")


def decode(text: str) -> Manifest:
    """The manifest from its joined pieces; raises `ValueError` when damaged."""
    try:
        raw = json.loads(zlib.decompress(base64.b64decode(text, validate=True)))
        return Manifest(
            paths=raw.get("paths"),
            static=raw.get("static"),
            paths_crc=raw["paths_crc"],
            static_crc=raw["static_crc"],
        )
    except (ValueError, KeyError, TypeError, zlib.error, RecursionError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from None


def static_problems(stored: Manifest, like: dict[str, str], root: str) -> list[str]:
    """Every static difference between the file and `like`, by path (paths are
    shown after `root`, the root Module's class name)."""
    if stored.static is None:
        if stored.static_crc == _crc(json.dumps(like, sort_keys=True)):
            return []
        return [
            "the static configuration differs from `like`'s (the file is too large to "
            "record it in full, so only its checksum was kept)"
        ]
    problems = []
    changed: list[str] = []  # differing nodes: their contents are not listed
    file = stored.static
    for path in sorted(set(file) | set(like), key=_order(file, like)):
        if any(
            path.startswith(c) and path[len(c) : len(c) + 1] in (".", "[")
            for c in changed
        ):
            continue
        a, b = file.get(path), like.get(path)
        if a == b or _array_and_numpy_scalar(a, b):
            continue
        changed.append(path)
        if (a is None or b is None) and _is_data(a or b or ""):
            continue  # a missing or extra leaf of data: the leaf list names it
        shown = root + path or "the root"
        if a is None:
            problems.append(f"{shown}: not in the file; {b} in `like`")
        elif b is None:
            problems.append(f"{shown}: {a} in the file; not in `like`")
        else:
            problems.append(f"{shown}: {a} in the file, {b} in `like`")
    return problems


def _array_and_numpy_scalar(a: str | None, b: str | None) -> bool:
    # Both are stored as one NumPy record, so either loads into the other (as in
    # Equinox); the record's shape and dtype are still checked against `like`'s.
    kinds = {a, b}
    return "array" in kinds and any(k and k.startswith("NumPy ") for k in kinds)


def _is_data(text: str) -> bool:
    return text in ("array", "bool", "int", "float", "complex") or text.startswith(
        "NumPy "
    )


def _order(stored: dict[str, str], like: dict[str, str]) -> Callable[[str], int]:
    rank = {
        p: i for i, p in enumerate(list(like) + [p for p in stored if p not in like])
    }
    return lambda p: rank[p]
