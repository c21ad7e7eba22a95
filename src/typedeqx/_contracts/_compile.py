"""Turn a type hint into a checker node (see `_nodes.py`), once per annotation."""

import collections.abc
import types
import typing
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import typing_extensions
from jaxtyping import AbstractArray, PyTree

from ._batched import BatchedAxis, BatchedNode
from ._dims import render_array
from ._nodes import (
    ArrayNode,
    BeartypeNode,
    CallableNode,
    ClassNode,
    LiteralNode,
    MappingNode,
    Node,
    SelfNode,
    SequenceNode,
    UnionNode,
    is_plain_class,
)
from ._trees import ForeignNode, PyTreeNode

_SELF = (typing.Self, typing_extensions.Self)
_SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


class AnyNode(Node):
    """Accepts anything; only used inside containers (`tuple[Any, int]`)."""

    text = "Any"

    def __init__(self) -> None:
        self.key = _no_key

    def check(self, value: Any, b: Any, strip: int = 0) -> None:
        return None


def _no_key(value: Any) -> None:
    return None


def render(hint: Any) -> str:
    """A hint as a user writes it: `Float[Array, "n"] | None`, `tuple[Linear, ...]`."""
    if hint is None or hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    if _is_array(hint):
        return render_array(hint)
    if isinstance(hint, type) and issubclass(hint, PyTree) and hint is not PyTree:
        tree: Any = hint
        inner = render(tree.leaftype)
        structure = tree.structure
        return (
            f"PyTree[{inner}]"
            if structure is None
            else (f'PyTree[{inner}, "{structure}"]')
        )
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return " | ".join(render(a) for a in get_args(hint))
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in get_args(hint))}]"
    if origin is Annotated:
        base, *metadata = get_args(hint)
        for item in metadata:
            if isinstance(item, BatchedAxis):
                return f'Batched[{render(base)}, "{item.name}"]'
        return render(base)
    if origin is not None:
        args = get_args(hint)
        name = getattr(origin, "__name__", repr(origin))
        return f"{name}[{', '.join(render(a) for a in args)}]" if args else name
    if isinstance(hint, type):
        return hint.__name__
    return repr(hint).replace("typing.", "")


def _is_array(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, AbstractArray)


def contains_arrays(hint: Any) -> bool:
    """Whether a jaxtyping array or PyTree annotation appears anywhere in `hint`."""
    if _is_array(hint) or (isinstance(hint, type) and issubclass(hint, PyTree)):
        return True
    return any(contains_arrays(a) for a in get_args(hint) if a is not Ellipsis)


def _union(members: tuple[Any, ...]) -> Any:
    union: Any = Union
    return union[members]


def compile_hint(hint: Any) -> Node | None:
    """The checker for `hint`, or `None` where the hint accepts everything."""
    if hint is Any or hint is object:
        return None
    if hint is None or hint is type(None):
        return ClassNode(type(None))
    if any(hint is s for s in _SELF):
        return SelfNode()
    if isinstance(hint, TypeVar):
        if hint.__bound__ is not None:
            return compile_hint(hint.__bound__)
        if hint.__constraints__:
            return compile_hint(_union(hint.__constraints__))
        return None
    if isinstance(hint, typing.NewType):
        return compile_hint(hint.__supertype__)
    if _is_array(hint):
        return ArrayNode(hint)
    if isinstance(hint, type) and issubclass(hint, PyTree):
        return _compile_pytree(hint)
    origin = get_origin(hint)
    if origin is not None:
        return _compile_generic(hint, origin)
    if is_plain_class(hint):
        return ClassNode(hint)
    return _fallback(hint)


def _compile_pytree(hint: Any) -> Node | None:
    if hint is PyTree:
        return None
    leaf = compile_hint(hint.leaftype)
    structure = hint.structure
    if structure is not None and not structure.isidentifier():
        return ForeignNode(hint, render(hint))
    if leaf is None and structure is None:
        return None
    return PyTreeNode(leaf, structure, render(hint))


def _compile_generic(hint: Any, origin: Any) -> Node | None:
    args = get_args(hint)
    text = render(hint)
    if origin is Annotated:
        base, *metadata = args
        for item in metadata:
            if isinstance(item, BatchedAxis):
                return BatchedNode(base, item.name)
        return compile_hint(base)
    if origin in (Union, types.UnionType):
        options = [compile_hint(a) for a in args]
        if any(o is None for o in options):
            return None
        return UnionNode([o for o in options if o is not None])
    if origin is Literal:
        return LiteralNode(args, text)
    if origin is collections.abc.Callable:
        return CallableNode(text)
    if origin is tuple:
        if args == ((),):
            args = ()
        variadic = len(args) == 2 and args[1] is Ellipsis
        return _sequence(tuple, list(args[:1] if variadic else args), variadic, text)
    if origin in _SEQUENCES:
        return _sequence(origin, list(args[:1]), True, text)
    if origin in _MAPPINGS and len(args) == 2:
        key, value = (compile_hint(a) for a in args)
        if key is None and value is None:
            return ClassNode(origin, text)
        return MappingNode(origin, key or AnyNode(), value or AnyNode(), text)
    return _fallback(hint)


def _sequence(kind: type, args: list[Any], variadic: bool, text: str) -> Node:
    items = [compile_hint(a) for a in args]
    if variadic and items[0] is None:
        return ClassNode(kind, text)
    return SequenceNode(kind, [i or AnyNode() for i in items], variadic, text)


def _fallback(hint: Any) -> Node:
    if contains_arrays(hint):
        return ForeignNode(hint, render(hint))
    return BeartypeNode(hint, render(hint))
