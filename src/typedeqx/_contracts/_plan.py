"""Check plans: the compiled contract of a class's fields (`ClassPlan`), and the
pieces shared with method and function plans (`Slot`, key generation, error
construction).

A plan's `key` function is generated source, one expression per checked value, so
that the steady-state cost of a check is building one tuple and one dict lookup.
"""

import dataclasses
import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any

from ._bindings import Bindings, BoundBy
from ._compile import Compiler
from ._dims import Problem
from ._nodes import ArrayNode, Node, StaticNode, UnionNode, array_key, value_key
from ._shape_error import ShapeError, shape_error_type

MISSING: Any = type("MISSING", (), {"__repr__": lambda self: "MISSING"})()
_GENERAL = object()
_MEMO_LIMIT = 4096
_PLANS: dict[type, "ClassPlan"] = {}


class Slot:
    """One checked value: a field, an argument, or the return value."""

    __slots__ = ("name", "role", "node", "label", "access")

    def __init__(self, name: str, role: str, node: Node, access: str = "") -> None:
        self.name = name
        self.role = role
        self.node = node
        self.label = BoundBy(role, name)
        self.access = access


def order(slots: list[Slot]) -> list[Slot]:
    """Symbolic dimensions (`n+1`) last, so the names they use are bound first."""
    return [s for s in slots if not s.node.symbolic] + [
        s for s in slots if s.node.symbolic
    ]


class UnresolvedAnnotations(TypeError):
    """Annotations name something not defined (yet): a forward reference."""


def resolve_hints(obj: Any, owner: type | None) -> dict[str, Any]:
    """Evaluated annotations of a class or function (strings included)."""
    localns = None if owner is None else {owner.__name__: owner}
    try:
        return typing.get_type_hints(obj, localns=localns, include_extras=True)
    except NameError as e:
        where = getattr(obj, "__qualname__", repr(obj))
        raise UnresolvedAnnotations(
            f"typedeqx.checked cannot resolve the annotations of {where}: {e}. "
            "Define the names they use at module level before the first call."
        ) from None


def _inline(node: Node) -> str | None:
    """Source for a node's key spliced into the flat tuple, where that is possible:
    `type(v), v.aval` for an array (raising AttributeError on a non-JAX value, which
    sends the whole key to the general form)."""
    if node.key is array_key:
        if isinstance(node, ArrayNode):
            return "type({v}), {v}.aval"
        if isinstance(node, UnionNode) and all(
            isinstance(o, ArrayNode) or getattr(o, "cls", None) is type(None)
            for o in node.options
        ):
            return "type({v}), (None if {v} is None else {v}.aval)"
        return None
    if node.key is value_key:
        return "type({v}), {v}"
    if node.key is type:
        return "type({v})"
    return None


def make_key_function(
    slots: Sequence[Slot], signature: str, prelude: str = "", raw: bool = False
) -> Callable[..., tuple[Any, ...]]:
    """Generate the key of a call: a flat tuple, with each slot's key inlined where
    possible, or (on any AttributeError) the tuple of the slots' `key(value)`
    marked by a leading sentinel. With `raw`, the tuple of the values themselves."""
    scope: dict[str, Any] = {"M": MISSING, "GENERAL": _GENERAL}
    lines = [prelude]
    fast, general = [], []
    for i, slot in enumerate(slots):
        scope[f"K{i}"] = slot.node.key
        lines.append(f"    v{i} = {slot.access}\n")
        template = _inline(slot.node)
        fast.append(f"K{i}(v{i})" if template is None else template.format(v=f"v{i}"))
        general.append(f"K{i}(v{i})")
    if raw:
        body = f"    return ({''.join(f'v{i}, ' for i in range(len(slots)))})\n"
    else:
        body = (
            f"    try:\n        return ({''.join(t + ', ' for t in fast)})\n"
            "    except AttributeError:\n"
            f"        return (GENERAL, {''.join(t + ', ' for t in general)})\n"
        )
    source = f"def key({signature}):\n{''.join(lines)}{body}"
    exec(compile(source, "<typedeqx key>", "exec"), scope)
    return typing.cast(Callable[..., tuple[Any, ...]], scope["key"])


class Failure(typing.NamedTuple):
    """A slot whose value did not match, why, and the bindings at that point
    (including what the value itself bound before failing)."""

    slot: Slot
    problem: Problem
    bindings: Bindings


def check_slots(
    slots: Sequence[Slot], values: Sequence[Any], b: Bindings, strip: int = 0
) -> Failure | None:
    """Check each value against its slot in order, committing bindings as it goes."""
    for slot, value in zip(slots, values):
        if value is MISSING:
            continue
        scratch = b.copy()
        scratch.label = slot.label
        problem = slot.node.check(value, scratch, strip)
        if problem is not None:
            return Failure(slot, problem, scratch)
        b.commit(scratch)
    return None


def shape_error(
    owner: str | None,
    member: str,
    failure: Failure,
    origin: Any,
    hint: str | None = None,
) -> ShapeError:
    slot, problem, b = failure
    got = problem.got + (f" at {problem.at}" if problem.at else "")
    return shape_error_type(problem.raises)(
        owner=owner,
        member=member,
        parameter="return" if slot.role == "return" else slot.name,
        role=slot.role,
        expected=problem.expected,
        got=got,
        detail=problem.detail,
        bindings=b.as_dict(),
        bound_by=dict(b.sources),
        relevant=problem.relevant,
        hint=problem.hint or hint or _stale_hint(member, slot, b, origin),
        origin=origin,
    )


def _stale_hint(member: str, slot: Slot, b: Bindings, obj: Any) -> str | None:
    """A static size that disagrees with the array field that bound its dimension:
    the array was swapped by `tree_at` after construction."""
    source = b.sources.get(slot.name)
    if slot.role != "static field" or member == "__init__" or source is None:
        return None
    if source.kind != "field" or slot.name not in b.sizes:
        return None
    cls = type(obj)
    return (
        f"The {source.name} was probably replaced by model surgery; rebuild the layer "
        f"with {_constructor(cls, obj, b)} or update {slot.name} with tree_at."
    )


def _constructor(cls: type, obj: Any, b: Bindings) -> str:
    """`Linear(5, 4, ...)`: the leading constructor arguments that are static
    sizes, with the sizes the arrays bound."""
    values = []
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        params = []
    for param in params:
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            break
        value = b.sizes.get(param.name, obj.__dict__.get(param.name))
        if not isinstance(value, int) or isinstance(value, bool):
            break
        values.append(str(value))
    more = ", ..." if len(values) < len(params) else ""
    return f"{cls.__name__}({', '.join(values)}{more})"


def opted_in(cls: type) -> bool:
    """Whether `@checked` decorated `cls` itself (it sets the hook on `cls` only)."""
    return "__typedeqx_class_hook__" in cls.__dict__


def _contract_fields(cls: Any) -> set[str]:
    """The fields of `cls` under contract: those of its `@checked` classes. A field an
    undecorated subclass adds is its user's code and stays unchecked; a class with
    no checked ancestor (a `Batched[...]` target) has all its fields checked."""
    fields = {f.name for f in dataclasses.fields(cls)}
    if getattr(cls, "__typedeqx_class_hook__", None) is None:
        return fields
    names: set[str] = set()
    for kls in cls.__mro__:
        if opted_in(kls):
            names.update(f.name for f in dataclasses.fields(kls))
    return names & fields


class ClassPlan:
    """The field contract of one Module class, compiled on first use."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.name = cls.__name__
        hints = resolve_hints(cls, cls)
        slots = []
        checked = _contract_fields(cls)
        for f in dataclasses.fields(typing.cast(Any, cls)):
            if f.name not in checked:
                continue
            node = compile_hint(hints.get(f.name, Any))
            if f.metadata.get("static", False):
                slots.append(Slot(f.name, "static field", StaticNode(f.name, node)))
            elif node is not None:
                slots.append(Slot(f.name, "field", node))
        for slot in slots:
            slot.access = f"d[{slot.name!r}]"
        self.slots = order(slots)
        self.keyed = [s for s in self.slots if s.node.keyed]
        self.always = [s for s in self.slots if not s.node.keyed]
        self.cacheable = not any(
            s.node.binds or s.node.uses_arguments for s in self.always
        ) and not any(s.node.uses_arguments for s in self.slots)
        self.key = make_key_function(self.keyed, "d")
        self.memo: dict[Any, bool] = {}

    def values(self, obj: Any) -> list[Any]:
        d = obj.__dict__
        return [d.get(s.name, MISSING) for s in self.slots]

    def bind_fields(self, obj: Any, b: Bindings) -> Failure | None:
        """Check every field of `obj`, binding its dimensions into `b`."""
        b.self_type = type(obj)
        b.arguments = dict(obj.__dict__)
        return check_slots(self.slots, self.values(obj), b)

    def check_init(self, obj: Any) -> None:
        """The field check after `__init__`: memoised on the fields' key."""
        __tracebackhide__ = True
        d = obj.__dict__
        if self.cacheable:
            try:
                if self.key(d) in self.memo:
                    self.check_always(obj, "__init__")
                    return
            except (KeyError, TypeError):
                pass
        b = Bindings()
        failure = self.bind_fields(obj, b)
        if failure is not None:
            raise shape_error(self.name, "__init__", failure, obj)
        if self.cacheable:
            self.remember(d)

    def remember(self, d: dict[str, Any]) -> None:
        try:
            key = self.key(d)
        except (KeyError, TypeError):
            return
        if len(self.memo) >= _MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = True

    def check_always(self, obj: Any, member: str) -> None:
        """The unkeyed fields (beartype hints), checked on every call."""
        __tracebackhide__ = True
        if not self.always:
            return
        d = obj.__dict__
        b = Bindings()
        values = [d.get(s.name, MISSING) for s in self.always]
        failure = check_slots(self.always, values, b)
        if failure is not None:
            raise shape_error(self.name, member, failure, obj)

    def check_stripped(self, obj: Any, strip: int) -> Problem | None:
        """Fields of `obj` with `strip` leading axes dropped (for `Batched`)."""
        failure = check_slots(self.slots, self.values(obj), Bindings(), strip)
        if failure is None:
            return None
        slot, problem, _ = failure
        problem.at = f".{slot.name}{problem.at}"
        return problem


def discard_plan(cls: type) -> None:
    """Forget `cls`'s plan: one made before `@checked` opted `cls` in is stale."""
    _PLANS.pop(cls, None)


def class_plan(cls: type) -> ClassPlan:
    """The (cached) field plan of `cls`."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = ClassPlan(cls)
    return plan


compile_hint = Compiler(class_plan)
"""The checker node of a hint, with `class_plan` for the classes `Batched` names."""
