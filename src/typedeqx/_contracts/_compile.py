"""Type hints: how each form of hint renders, compiles into a checker node (see
`_nodes.py`), and whether it holds arrays, in one place per form.

`FORMS` lists the forms in the order they are tried; the first whose `matches`
accepts a hint handles it. Adding a form of hint means adding one `Form` here.

```python
>>> from jaxtyping import Array, Float
>>> render(tuple[Float[Array, "n"], int | None])
'tuple[Float[Array, "n"], int | None]'
>>> contains_arrays(dict[str, Float[Array, "n"]]), contains_arrays(dict[str, int])
(True, False)

```
"""

import collections.abc
import types
import typing
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import typing_extensions
from jaxtyping import PyTree

from ._batched import BatchedAxis, BatchedNode, FieldPlans
from ._dims import render_array
from ._jaxtyping import is_array, is_pytree, pytree_parts
from ._nodes import (
    AnyNode,
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
from ._rules import Rule
from ._trees import ForeignNode, PyTreeNode

__all__ = ["FORMS", "Compiler", "Form", "contains_arrays", "render"]

_SELF = (typing.Self, typing_extensions.Self)
_SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


class Compiler:
    """Compiles hints into checker nodes (`None` where a hint accepts everything).

    `fields` gives the field contract of a Module class, which `Batched[...]` needs;
    it is passed in by the plans that own those contracts (see `_batched.py`).
    """

    def __init__(self, fields: FieldPlans) -> None:
        self.fields = fields

    def __call__(self, hint: Any) -> Node | None:
        return form_of(hint).compile(hint, self)


class Form:
    """One form of type hint. The base is the last resort: any other hint, checked
    by beartype (or by jaxtyping where arrays hide inside it)."""

    arrays = False  # holds a jaxtyping array itself (not only through its arguments)

    def matches(self, hint: Any) -> bool:
        return True

    def render(self, hint: Any) -> str:
        """The hint as a user writes it: `Float[Array, "n"] | None`."""
        if isinstance(hint, type):
            return hint.__name__
        return repr(hint).replace("typing.", "")

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        if contains_arrays(hint):
            return ForeignNode(hint, render(hint))
        return BeartypeNode(hint, render(hint))


class _Anything(Form):
    def matches(self, hint: Any) -> bool:
        return hint is Any or hint is object

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return None


class _NoneForm(Form):
    def matches(self, hint: Any) -> bool:
        return hint is None or hint is type(None)

    def render(self, hint: Any) -> str:
        return "None"

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return ClassNode(type(None))


class _EllipsisForm(Form):
    def matches(self, hint: Any) -> bool:
        return hint is Ellipsis

    def render(self, hint: Any) -> str:
        return "..."


class _SelfForm(Form):
    def matches(self, hint: Any) -> bool:
        return any(hint is s for s in _SELF)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return SelfNode()


class _TypeVarForm(Form):
    """A type variable stands for its bound, or the union of its constraints."""

    def matches(self, hint: Any) -> bool:
        return isinstance(hint, TypeVar)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        if hint.__bound__ is not None:
            return c(hint.__bound__)
        if hint.__constraints__:
            union: Any = Union
            return c(union[hint.__constraints__])
        return None


class _NewTypeForm(Form):
    def matches(self, hint: Any) -> bool:
        return isinstance(hint, typing.NewType)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return c(hint.__supertype__)


class _ArrayForm(Form):
    arrays = True

    def matches(self, hint: Any) -> bool:
        return is_array(hint)

    def render(self, hint: Any) -> str:
        return render_array(hint)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return ArrayNode(hint)


class _PyTreeForm(Form):
    """`PyTree[leaf]`, `PyTree[leaf, "T"]`; a composite structure (`"S T"`) is
    left to jaxtyping."""

    arrays = True

    def matches(self, hint: Any) -> bool:
        return is_pytree(hint)

    def render(self, hint: Any) -> str:
        if hint is PyTree:
            return "PyTree"
        leaf, structure = pytree_parts(hint)
        if structure is None:
            return f"PyTree[{render(leaf)}]"
        return f'PyTree[{render(leaf)}, "{structure}"]'

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        if hint is PyTree:
            return None
        leaf_hint, structure = pytree_parts(hint)
        leaf = c(leaf_hint)
        if structure is not None and not structure.isidentifier():
            return ForeignNode(hint, render(hint))
        if leaf is None and structure is None:
            return None
        return PyTreeNode(leaf, structure, render(hint))


class _Generic(Form):
    """A subscripted generic: `name[args]`. Without a form of its own below, it is
    checked as the base class does."""

    origins: tuple[Any, ...] = ()

    def matches(self, hint: Any) -> bool:
        origin = get_origin(hint)
        return origin is not None and (not self.origins or origin in self.origins)

    def render(self, hint: Any) -> str:
        origin, args = get_origin(hint), get_args(hint)
        name = getattr(origin, "__name__", repr(origin))
        return f"{name}[{', '.join(render(a) for a in args)}]" if args else name


class _UnionForm(_Generic):
    origins = (Union, types.UnionType)

    def render(self, hint: Any) -> str:
        return " | ".join(render(a) for a in get_args(hint))

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        options = [c(a) for a in get_args(hint)]
        if any(o is None for o in options):
            return None
        return UnionNode([o for o in options if o is not None])


class _LiteralForm(_Generic):
    origins = (Literal,)

    def render(self, hint: Any) -> str:
        return f"Literal[{', '.join(repr(a) for a in get_args(hint))}]"

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return LiteralNode(get_args(hint), render(hint))


class _AnnotatedForm(_Generic):
    """`Annotated[T, ...]` is `T`, unless it is `Batched[T, "name"]`."""

    origins = (Annotated,)

    def render(self, hint: Any) -> str:
        base, axis = _batched_parts(hint)
        return render(base) if axis is None else f'Batched[{render(base)}, "{axis}"]'

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        base, axis = _batched_parts(hint)
        if axis is not None:
            return BatchedNode(base, axis, c.fields)
        rules = tuple(r for r in get_args(hint)[1:] if isinstance(r, Rule))
        node = c(base)
        return node if not rules or node is None else _with_rules(node, rules)


def _with_rules(node: Node, rules: tuple[Rule, ...]) -> Node:
    """`node` with layer rules on each array annotation in it (each alternative of
    a union: `Inexact[Array | ndarray, "n"]` is two)."""
    if isinstance(node, ArrayNode):
        return node.with_rules(rules)
    if isinstance(node, UnionNode):
        return UnionNode([_with_rules(o, rules) for o in node.options])
    return node


def _batched_parts(hint: Any) -> tuple[Any, str | None]:
    base, *metadata = get_args(hint)
    for item in metadata:
        if isinstance(item, BatchedAxis):
            return base, item.name
    return base, None


class _CallableForm(_Generic):
    origins = (collections.abc.Callable,)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return CallableNode(render(hint))


class _SequenceForm(_Generic):
    """`tuple[A, B]`, `tuple[A, ...]`, `list[A]`, `Sequence[A]`."""

    origins = (tuple, *_SEQUENCES)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        kind, args = get_origin(hint), get_args(hint)
        if kind is not tuple:
            args, variadic = args[:1], True
        else:
            args = () if args == ((),) else args
            variadic = len(args) == 2 and args[1] is Ellipsis
            args = args[:1] if variadic else args
        items = [c(a) for a in args]
        text = render(hint)
        if variadic and items[0] is None:
            return ClassNode(kind, text)
        return SequenceNode(kind, [i or AnyNode() for i in items], variadic, text)


class _MappingForm(_Generic):
    origins = _MAPPINGS

    def matches(self, hint: Any) -> bool:
        return super().matches(hint) and len(get_args(hint)) == 2

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        kind = get_origin(hint)
        key, value = (c(a) for a in get_args(hint))
        if key is None and value is None:
            return ClassNode(kind, render(hint))
        return MappingNode(kind, key or AnyNode(), value or AnyNode(), render(hint))


class _ClassForm(Form):
    """A class: an `isinstance` check where its verdict depends on the type alone."""

    def matches(self, hint: Any) -> bool:
        return isinstance(hint, type)

    def compile(self, hint: Any, c: Compiler) -> Node | None:
        return ClassNode(hint) if is_plain_class(hint) else super().compile(hint, c)


FORMS: tuple[Form, ...] = (
    _Anything(),
    _NoneForm(),
    _EllipsisForm(),
    _SelfForm(),
    _TypeVarForm(),
    _NewTypeForm(),
    _ArrayForm(),
    _PyTreeForm(),
    _UnionForm(),
    _LiteralForm(),
    _AnnotatedForm(),
    _CallableForm(),
    _SequenceForm(),
    _MappingForm(),
    _Generic(),
    _ClassForm(),
    Form(),
)


def form_of(hint: Any) -> Form:
    """The first form in `FORMS` that matches `hint`."""
    for form in FORMS:
        if form.matches(hint):
            return form
    raise AssertionError("the last form matches every hint")  # pragma: no cover


def render(hint: Any) -> str:
    """A hint as a user writes it: `Float[Array, "n"] | None`, `tuple[Linear, ...]`."""
    return form_of(hint).render(hint)


def contains_arrays(hint: Any) -> bool:
    """Whether a jaxtyping array or PyTree annotation appears anywhere in `hint`."""
    return form_of(hint).arrays or any(
        contains_arrays(a) for a in get_args(hint) if a is not Ellipsis
    )
