"""Call plans: the compiled contract of a method or function.

`CallPlan` holds the argument and return checkers of one function. A method's
contract also includes the fields of `self`, which depend on `type(self)` (a
subclass may add fields), so each class a method is called on gets a `BoundPlan`
that joins its field slots and the argument slots under one generated key.
"""

import inspect
from collections.abc import Callable
from typing import Any, Optional

from ._bindings import Bindings
from ._hints import argument_hint, batched_hint
from ._nodes import AnyNode, MappingNode, SequenceNode
from ._paths import locate, relocate
from ._plan import (
    _MEMO_LIMIT,
    MISSING,
    ClassPlan,
    Slot,
    check_slots,
    compile_hint,
    make_key_function,
    order,
    resolve_hints,
    shape_error,
)
from ._shape_error import ShapeError

_P = inspect.Parameter


def _access(param: inspect.Parameter, index: int, named: tuple[str, ...]) -> str:
    if param.kind is _P.POSITIONAL_ONLY:
        return f"(args[{index}] if n > {index} else M)"
    if param.kind is _P.POSITIONAL_OR_KEYWORD:
        return f"(args[{index}] if n > {index} else kw.get({param.name!r}, M))"
    if param.kind is _P.KEYWORD_ONLY:
        return f"kw.get({param.name!r}, M)"
    if param.kind is _P.VAR_POSITIONAL:
        return f"args[{index}:]"
    return f"{{k: v for k, v in kw.items() if k not in {named!r}}}"


class CallPlan:
    """Argument and return checkers of `func` (without `self` for a method)."""

    def __init__(self, func: Any, owner: type | None, method: bool) -> None:
        qualname = func.__qualname__.rsplit("<locals>.", 1)[-1]
        self.member = func.__name__ if method else qualname
        hints = resolve_hints(func, owner)
        params = list(inspect.signature(func).parameters.values())[int(method) :]
        named = tuple(
            p.name for p in params if p.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)
        )
        slots = []
        for index, param in enumerate(params):
            hint = hints.get(param.name, Any)
            if param.default is None and hint is not Any:
                # `x: T = None` reads as `T | None` (PEP 484's implicit Optional;
                # common in Equinox code, e.g. `state: State = None`), so passing
                # the default explicitly is not a contract violation.
                hint = Optional[hint]  # noqa: UP045 (`|` fails on some hint forms)
            node = compile_hint(hint)
            if node is None:
                continue
            if param.kind is _P.VAR_POSITIONAL:
                node = SequenceNode(tuple, [node], True, f"tuple[{node.text}, ...]")
            elif param.kind is _P.VAR_KEYWORD:
                node = MappingNode(dict, AnyNode(), node, f"dict[str, {node.text}]")
            slots.append(
                Slot(param.name, "argument", node, _access(param, index, named))
            )
        self.slots = order(slots)
        returned = compile_hint(hints.get("return", Any))
        self.ret = None if returned is None else Slot("return", "return", returned)
        self.values = make_key_function(
            self.slots, "args, kw", "    n = len(args)\n", raw=True
        )


class Entry:
    """A verdict in the memo: the bindings after the fields and arguments matched,
    and the return keys already seen to match them."""

    __slots__ = ("bindings", "returns")

    def __init__(self, bindings: Bindings) -> None:
        self.bindings = bindings
        self.returns: dict[Any, bool] = {}


class BoundPlan:
    """A call plan joined with the field plan of one class (or of none, for a plain
    function); owns the memo of verdicts."""

    def __init__(self, call: CallPlan, fields: ClassPlan | None) -> None:
        self.call = call
        self.fields = fields
        self.owner = None if fields is None else fields.name
        field_slots = [] if fields is None else fields.keyed
        keyed = [s for s in call.slots if s.node.keyed]
        self.always = [s for s in call.slots if not s.node.keyed]
        self.field_always = bool(fields is not None and fields.always)
        self.has_always = bool(self.always) or self.field_always
        self.cacheable = (
            (fields is None or fields.cacheable)
            and not any(s.node.binds or s.node.uses_arguments for s in self.always)
            and not any(s.node.uses_arguments for s in call.slots)
        )
        prelude = "    n = len(args)\n"
        if fields is not None:
            prelude += "    d = self.__dict__\n"
        self.key = make_key_function(field_slots + keyed, "self, args, kw", prelude)
        self.ret = call.ret
        self.ret_key = None if call.ret is None else call.ret.node.key
        self.memo: dict[Any, Entry] = {}

    def run(
        self,
        func: Callable[..., Any],
        obj: Any,
        args: tuple[Any, ...],
        kw: dict[str, Any],
    ) -> Any:
        """The checked call of `func` (on `obj`, or `None` for a plain function): a
        memo hit skips the check of fields and arguments, and a return key seen
        with that verdict skips the check of the return value."""
        __tracebackhide__ = True
        try:
            entry = self.memo.get(self.key(obj, args, kw))
        except (KeyError, TypeError):  # a missing field, an unhashable value
            entry = None
        if entry is None:
            entry = self.check_call(obj, args, kw)
        elif self.has_always:
            self.check_always(obj, args, kw)
        if obj is None:
            out = func(*args, **kw)
        else:
            try:
                out = func(obj, *args, **kw)
            except ShapeError as error:
                relocate(error, obj)
                raise
        ret_key = self.ret_key
        if ret_key is not None:
            try:
                if ret_key(out) in entry.returns:
                    return out
            except TypeError:
                pass
            self.check_return(obj, entry, out)
        return out

    def check_call(self, obj: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Entry:
        """The full check of fields and arguments; remembers a pass."""
        __tracebackhide__ = True
        b = Bindings()
        member = self.call.member
        if self.fields is not None:
            failure = self.fields.bind_fields(obj, b)
            if failure is not None:
                hint = batched_hint(self.fields, obj)
                raise locate(shape_error(self.owner, member, failure, obj, hint))
        values = self.call.values(args, kw)
        b.arguments.update(
            {s.name: v for s, v in zip(self.call.slots, values) if v is not MISSING}
        )
        failure = check_slots(self.call.slots, values, b)
        if failure is not None:
            slot = failure.slot
            value = values[self.call.slots.index(slot)]
            error = locate(shape_error(self.owner, member, failure, obj))
            if error.hint is None:
                b.label = slot.label
                given = {
                    s.name: v
                    for s, v in zip(self.call.slots, values)
                    if v is not MISSING
                }
                hint, located = argument_hint(
                    slot.name, slot.node, value, b, error, obj, given
                )
                error._set_hint(hint, located)
            raise error
        entry = Entry(b)
        if self.cacheable:
            try:
                key = self.key(obj, args, kw)
                hash(key)
            except (KeyError, TypeError):
                return entry
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = entry
        return entry

    def check_always(self, obj: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> None:
        """Unkeyed slots (beartype hints), checked even when the memo knows the call."""
        __tracebackhide__ = True
        if self.field_always:
            assert self.fields is not None
            self.fields.check_always(obj, self.call.member)
        if self.always:
            all_values = self.call.values(args, kw)
            values = [all_values[self.call.slots.index(s)] for s in self.always]
            b = Bindings()
            failure = check_slots(self.always, values, b)
            if failure is not None:
                raise locate(shape_error(self.owner, self.call.member, failure, obj))

    def check_return(self, obj: Any, entry: Entry, out: Any) -> None:
        """The full check of a return value against the call's bindings."""
        __tracebackhide__ = True
        assert self.ret is not None
        b = entry.bindings.copy()
        failure = check_slots([self.ret], [out], b)
        if failure is not None:
            raise locate(shape_error(self.owner, self.call.member, failure, obj))
        if self.ret.node.keyed:
            try:
                entry.returns[self.ret.node.key(out)] = True
            except TypeError:
                pass
