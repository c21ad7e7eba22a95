"""Compiled checkers for single values: arrays, classes, unions, literals, containers.

Each annotation becomes a tree of nodes once, at decoration time. A node offers:

- `key(value)`: a hashable summary on which its verdict depends only (shape and
  dtype for arrays, the type for class checks). Equal keys mean equal verdicts, so a
  call whose keys were all seen before needs no checking.
- `check(value, bindings, strip)`: the full check, binding dimension names into
  `bindings` (a scratch copy that the caller commits). `strip` leading axes are
  ignored on every array, for modules batched by `filter_vmap`.

`keyed` is False where no such summary exists (the node is then checked on every
call); `binds` says whether the node can bind dimensions at all.
"""

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

import jax
import jax.core

from ._bindings import Bindings
from ._dims import ArraySpec, Problem
from ._rules import Rule, check_rules
from ._shape_error import describe, short_array

Key = Callable[[Any], Any]


def array_key(value: Any) -> Any:
    """The summary of an array: its type, and its abstract value (shape and dtype)
    for JAX arrays and tracers, else its shape and dtype.

    JAX interns abstract values, so `value.aval` is a cheap, hashable stand-in for
    shape and dtype (and is as correct if it were not interned: the memo would
    only miss more often)."""
    try:
        return (type(value), value.aval)
    except AttributeError:
        pass
    try:
        return (type(value), value.shape, value.dtype)
    except AttributeError:
        return type(value)


def value_key(value: Any) -> Any:
    return (type(value), value)


class Node:
    text = "?"
    key: Key = type
    keyed = True
    binds = False
    symbolic = False
    uses_arguments = False

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        raise NotImplementedError

    def problem(self, value: Any, detail: str = "") -> Problem:
        return Problem(describe(value), self.text, detail)


class AnyNode(Node):
    """Accepts anything; only used inside containers (`tuple[Any, int]`)."""

    text = "Any"

    def __init__(self) -> None:
        self.key = _no_key

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        return None


def _no_key(value: Any) -> None:
    return None


class ArrayNode(Node):
    """A jaxtyping array annotation, with the layer rules (`_rules.py`) that refine
    it: guards first, then the rules, then the annotation's own axes."""

    binds = True

    def __init__(self, annotation: Any, rules: tuple[Rule, ...] = ()) -> None:
        self.annotation = annotation
        self.spec = ArraySpec(annotation)
        self.text = self.spec.text
        # What a user sees: a NumPy alternative of a JAX array reads the same.
        self.user_text = self.text.replace("[ndarray, ", "[Array, ", 1)
        self.key = array_key
        self.symbolic = self.spec.symbolic
        self.uses_arguments = self.spec.uses_arguments
        array_type = self.spec.array_type
        self.array_type = array_type if isinstance(array_type, type) else None
        self.guards = tuple(r for r in rules if type(r).applies is not Rule.applies)
        self.rules = tuple(r for r in rules if r not in self.guards)

    def with_rules(self, rules: tuple[Rule, ...]) -> "ArrayNode":
        return ArrayNode(self.annotation, self.guards + self.rules + rules)

    def applies(self, b: Bindings) -> bool:
        return all(g.applies(b) for g in self.guards)

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        if self.guards and not self.applies(b):
            return Problem(describe(value), self.user_text, score=-1)
        if self.array_type is not None and not isinstance(value, self.array_type):
            name = self.array_type.__name__.rsplit(".", 1)[-1]
            module = self.array_type.__module__.split(".")[0]
            name = "jax.Array" if module in ("jax", "jaxlib") else f"{module}.{name}"
            return self.problem(value, f"expected a {name}")
        shape = getattr(value, "shape", None)
        dtype = getattr(value, "dtype", None)
        if not isinstance(shape, tuple) or dtype is None:
            return self.problem(value, "expected an array with a shape and dtype")
        return self.check_abstract(shape[strip:], dtype, b)

    def check_abstract(
        self, shape: tuple[int, ...], dtype: Any, b: Bindings
    ) -> Problem | None:
        """The check of a value of this shape and dtype (no value needed)."""
        if self.guards and not self.applies(b):
            return Problem(short_array(shape, dtype), self.user_text, score=-1)
        # Rank and dtype rules say more than the annotation's generic mismatch, so
        # they run first; size rules refine axes the annotation matched.
        problem = None
        if self.spec.accepts_dtype(dtype):  # else the annotation's dtype says it all
            problem = check_rules(
                self.rules, shape, dtype, self.user_text, b, before=True
            )
        if problem is None:
            problem = self.spec.match(shape, dtype, b) or check_rules(
                self.rules, shape, dtype, self.user_text, b, before=False
            )
            if problem is None:
                return None
        problem.expected = self.user_text
        if problem.score < 3:  # the sizes already bound still say what would fit
            bound = self.spec.bound_names(b)
            problem.relevant = bound + tuple(
                n for n in problem.relevant if n not in bound
            )
        return problem


class ClassNode(Node):
    """A plain class: an `isinstance` check, decided by the value's type alone."""

    def __init__(self, cls: type, text: str | None = None) -> None:
        self.cls = cls
        self.text = text or ("None" if cls is type(None) else cls.__name__)

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        if isinstance(value, self.cls):
            return None
        problem = self.problem(value)
        if self.cls in _PYTHON_SCALARS and isinstance(value, jax.core.Tracer):
            problem.hint = _traced_scalar_hint(self.cls, b.label)
        return problem


_PYTHON_SCALARS = (bool, int, float, complex)


def _traced_scalar_hint(cls: type, label: Any) -> str:
    # Only a transformation makes a tracer, and `jax.jit`/`jax.vmap` trace every
    # leaf they are given; the filtered transforms keep non-arrays static.
    kind = cls.__name__
    if getattr(label, "kind", "") in ("field", "static field"):
        return (
            f"a {kind} field that became a traced array: the model was passed "
            "through a JAX transformation directly (jax.jit, jax.vmap, a lax.scan "
            "carry), which traces every leaf; use eqx.filter_jit / eqx.filter_vmap, "
            "which keep non-array fields static."
        )
    return (
        f"a {kind} that became a traced array: it was passed through a JAX "
        "transformation as an argument (jax.jit, jax.vmap); use eqx.filter_jit / "
        "eqx.filter_vmap, which keep non-array arguments static, or close over it."
    )


class SelfNode(Node):
    """`typing.Self`: an instance of the class of the `self` being called."""

    text = "Self"

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        owner = b.self_type
        if owner is None or isinstance(value, owner):
            return None
        return self.problem(value, f"expected an instance of {owner.__name__}")


class CallableNode(Node):
    """`Callable[...]`: beartype checks only `callable(value)`, and so do we."""

    def __init__(self, text: str) -> None:
        self.text = text

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        return None if callable(value) else self.problem(value, "not callable")


class LiteralNode(Node):
    """`Literal[...]`: equal to one of the values, with the same type."""

    def __init__(self, values: tuple[Any, ...], text: str) -> None:
        self.values = values
        self.text = text
        self.key = value_key

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        for allowed in self.values:
            if type(value) is type(allowed) and value == allowed:
                return None
        return self.problem(value)


class BeartypeNode(Node):
    """Any other non-array hint, checked by beartype on every call."""

    keyed = False

    is_bearable: Any = None

    def __init__(self, hint: Any, text: str) -> None:
        self.hint = hint
        self.text = text

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        is_bearable = self.is_bearable
        if is_bearable is None:
            # Imported on the first check, not when the class is made: beartype
            # costs ~0.1 s to import, and `import typedeqx` would pay it for every
            # layer whose hints need it (most programs never call one).
            from beartype.door import is_bearable

            self.is_bearable = is_bearable
        return None if is_bearable(value, self.hint) else self.problem(value)


class StaticNode(Node):
    """A static field: its own check, and an int value binds the dimension `name`."""

    binds = True

    def __init__(self, name: str, inner: Node | None) -> None:
        self.name = name
        self.inner = inner
        self.text = inner.text if inner is not None else "int"
        self.key = value_key
        self.keyed = inner is None or inner.keyed

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        if self.inner is not None:
            problem = self.inner.check(value, b, strip)
            if problem is not None:
                return problem
        if isinstance(value, int) and not isinstance(value, bool):
            bound = b.sizes.get(self.name)
            if bound is None:
                b.bind_size(self.name, value, b.label)
            elif bound != value:
                return Problem(
                    describe(value), self.text, relevant=(self.name,), score=3
                )
        elif _is_shape(value):
            # A static shape (`LayerNorm.shape`) binds the variadic `*name`.
            previous = b.shapes.get(self.name)
            if previous is None:
                b.bind_shape(self.name, False, value, b.label)
            elif previous[1] != value:
                relevant = ("*" + self.name,)
                return Problem(describe(value), self.text, relevant=relevant, score=3)
        return None


def _is_shape(value: Any) -> TypeGuard[tuple[int, ...]]:
    return type(value) is tuple and all(
        type(n) is int and n >= 0
        for n in value  # no bools, no numpy ints
    )


def _user_text(node: Node) -> str:
    return getattr(node, "user_text", node.text)


def _render_union(options: list[Node]) -> str:
    # Alternatives that read the same to a user (`Array` or `ndarray`) show once.
    return " | ".join(dict.fromkeys(_user_text(o) for o in options))


class UnionNode(Node):
    """`A | B | None`: the first alternative that matches wins; on failure, the
    closest alternative is reported, against the alternatives that apply."""

    def __init__(self, options: list[Node]) -> None:
        flat: list[Node] = []
        for option in options:  # `A | (B | C)` is `A | B | C`
            flat.extend(option.options if isinstance(option, UnionNode) else [option])
        options = flat
        self.options: list[Node] = options
        self.text = _render_union(options)
        self.keyed = all(o.keyed for o in options)
        self.binds = any(o.binds for o in options)
        self.symbolic = any(o.symbolic for o in options)
        self.uses_arguments = any(o.uses_arguments for o in options)
        keys = [o.key for o in options]
        if all(k is type for k in keys):
            self.key = type
        elif all(k is type or k is array_key for k in keys):
            self.key = array_key
        else:
            self.key = lambda value: tuple(k(value) for k in keys)

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        best: Problem | None = None
        applying = []
        for option in self.options:
            scratch = b.copy()
            problem = option.check(value, scratch, strip)
            if problem is None:
                b.commit(scratch)
                return None
            if problem.score < 0:  # a guarded alternative that does not apply
                continue
            applying.append(option)
            if best is None or problem.score > best.score:
                best = problem
        if best is None:
            problem = self.problem(value, "no alternative applies")
            problem.score = -1
            return problem
        arrays = {_user_text(o) for o in applying if isinstance(o, ArrayNode)}
        if len(arrays) >= 2 and best.score == 3:
            # The alternative whose rank matched came closest; say which.
            closest = f"closest: {best.expected}"
            best.detail = f"{closest}, {best.detail}" if best.detail else closest
        elif len(arrays) >= 2 and best.score == 2:
            best.detail = "no alternative has this rank"
        best.expected = _render_union(applying)
        return best


class SequenceNode(Node):
    """`tuple[A, B]`, `tuple[A, ...]`, `list[A]`, `Sequence[A]`: the container type,
    then each element."""

    def __init__(
        self, kind: type[Sequence[Any]], items: list[Node], variadic: bool, text: str
    ) -> None:
        self.kind = kind
        self.items = items
        self.variadic = variadic
        self.text = text
        self.keyed = all(i.keyed for i in items)
        self.binds = any(i.binds for i in items)
        self.symbolic = any(i.symbolic for i in items)
        self.uses_arguments = any(i.uses_arguments for i in items)
        keys = [i.key for i in items]
        if variadic:
            (element_key,) = keys

            def key(v: Any) -> Any:
                if isinstance(v, kind) and not isinstance(v, str):
                    return (type(v), tuple(map(element_key, v)))
                return type(v)

        else:

            def key(v: Any) -> Any:
                if not isinstance(v, kind):
                    return type(v)
                if len(v) != len(keys):
                    return (type(v), len(v))
                return (type(v), tuple(k(x) for k, x in zip(keys, v)))

        self.key = key

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        if not isinstance(value, self.kind) or isinstance(value, str):
            return self.problem(value)
        n = len(value)
        if not self.variadic and n != len(self.items):
            return self.problem(value, f"length {n}, expected {len(self.items)}")
        items = self.items * n if self.variadic else self.items
        for index, (node, element) in enumerate(zip(items, value)):
            problem = node.check(element, b, strip)
            if problem is not None:
                problem.at = f"[{index}]" + problem.at
                return problem
        return None


class MappingNode(Node):
    """`dict[K, V]` / `Mapping[K, V]`: every key and value."""

    def __init__(
        self, kind: type[Mapping[Any, Any]], key: Node, value: Node, text: str
    ) -> None:
        self.kind = kind
        self.key_node = key
        self.value_node = value
        self.text = text
        self.keyed = key.keyed and value.keyed
        self.binds = key.binds or value.binds
        self.symbolic = value.symbolic
        self.uses_arguments = value.uses_arguments
        kk, vk = key.key, value.key

        def mapping_key(v: Any) -> Any:
            if not isinstance(v, kind):
                return type(v)
            items = v.items()
            return (type(v), tuple((kk(k), vk(x)) for k, x in items))

        self.key = mapping_key

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        if not isinstance(value, self.kind):
            return self.problem(value)
        for k, v in value.items():
            problem = self.key_node.check(k, b, strip) or self.value_node.check(
                v, b, strip
            )
            if problem is not None:
                problem.at = f"[{k!r}]" + problem.at
                return problem
        return None


def is_plain_class(hint: Any) -> bool:
    """A class whose `isinstance` verdict depends on the value's type alone."""
    checker = getattr(type(hint), "__instancecheck__", None)
    return isinstance(hint, type) and checker in (
        type.__instancecheck__,
        abc.ABCMeta.__instancecheck__,
    )
