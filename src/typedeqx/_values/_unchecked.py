"""Unchecked modules inside a checked call: a user's plain `Module` subclass (no
`@checked`) called by a checked parent is checked like a checked one, and named
by its own path (`Net.blocks[3]`), not blamed on the parent's code.

Python calls `module(x)` through the class (`type(module).__call__`), so the hook
is on the class: for the length of each outermost value-checked call, every class
in the model (or among the call's arguments) whose `__call__` or public methods
are not checked gets a checking wrapper in their place (reference-counted under a
lock, so overlapping calls in several threads share it; restored afterwards). The
wrapper reads this thread's stack of checked calls and calls straight through
when it is empty (another thread, or code outside any checked call), when checks
are no longer on with values, or when the module calls its own methods
(`super().__call__`). Nothing of this runs with value checks off.
"""

import contextlib
import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from .._contracts import VALUES, checks_enabled, module_paths
from .._module import Module, is_method
from ._frames import call_with_values, innermost_site

_MARK = "__typedeqx_values_hook__"
_lock = threading.Lock()
# (owner class, member name) -> [original function, its wrapper, users]
_patched: dict[tuple[type, str], list[Any]] = {}
# class -> the names of its unchecked members (names only: a value holding the
# class would keep its weak key alive)
_names: "weakref.WeakKeyDictionary[type, tuple[str, ...]]" = weakref.WeakKeyDictionary()


def _plain(func: Any, obj: Any, args: tuple[Any, ...], kw: Any) -> Any:
    return func(obj, *args, **kw)


def _checking(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def unchecked_member(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        site = innermost_site()
        if site is None or site.module is self or checks_enabled() is not VALUES:
            return func(self, *args, **kwargs)
        return call_with_values(_plain, func, self, args, kwargs)

    setattr(unchecked_member, _MARK, True)
    return unchecked_member


def _owner(cls: type, name: str) -> type | None:
    return next((k for k in cls.__mro__ if name in k.__dict__), None)


def _unchecked_names(cls: type) -> tuple[str, ...]:
    """The names of the unchecked `__call__` and public methods of `cls`."""
    found = _names.get(cls)
    if found is not None:
        return found
    names = []
    fields = getattr(cls, "__typedeqx_field_names__", ())
    for name in dir(cls):
        if (name != "__call__" and name.startswith("_")) or name in fields:
            continue
        owner = _owner(cls, name)
        if owner is None or owner is Module:
            continue
        value = owner.__dict__[name]
        if not is_method(name, value) or getattr(value, "__typedeqx_checked__", False):
            continue
        names.append(name)
    _names[cls] = found = tuple(names)
    return found


def _unchecked_members(cls: type) -> list[tuple[type, str]]:
    """Where the unchecked `__call__` and public methods of `cls` are defined."""
    members = ((_owner(cls, name), name) for name in _unchecked_names(cls))
    return [(owner, name) for owner, name in members if owner is not None]


def _install(key: tuple[type, str]) -> None:
    entry = _patched.get(key)
    if entry is not None:
        entry[2] += 1
        return
    owner, name = key
    original = owner.__dict__[name]
    if getattr(original, _MARK, False):
        return  # left in place by an interleaved patch; it calls through
    wrapper = _checking(original)
    _patched[key] = [original, wrapper, 1]
    setattr(owner, name, wrapper)


def _remove(key: tuple[type, str]) -> None:
    entry = _patched.get(key)
    if entry is None:
        return
    entry[2] -= 1
    if entry[2] == 0:
        del _patched[key]
        owner, name = key
        # Another patcher (a `summary` in another thread) may have wrapped ours:
        # then ours stays in place, calling through outside checked calls.
        if owner.__dict__.get(name) is entry[1]:
            setattr(owner, name, entry[0])


@contextlib.contextmanager
def _hooked(tree: Any) -> Iterator[None]:
    classes = {type(m) for _, m in module_paths(tree)}
    keys = {key for cls in classes for key in _unchecked_members(cls)}
    with _lock:
        for key in keys:
            _install(key)
    try:
        yield
    finally:
        with _lock:
            for key in keys:
                _remove(key)


def call_checking_unchecked(
    run: Callable[..., Any], func: Any, obj: Any, args: tuple[Any, ...], kw: Any
) -> Any:
    """`call_with_values(run, func, obj, args, kw)`; the outermost one checks the
    unchecked modules called inside it too."""
    __tracebackhide__ = True
    if innermost_site() is not None:
        return call_with_values(run, func, obj, args, kw)
    with _hooked((obj, args, kw)):
        return call_with_values(run, func, obj, args, kw)
