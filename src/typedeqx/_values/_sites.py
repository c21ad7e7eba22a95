"""Where a value check sits: the full path of a module in the model
(`Net.blocks[3].attn`), found from the outermost checked call of the current
trace and, above it, the outermost module on the Python stack holding it.

Paths are worked out only when a message needs them: on a failure in eager code,
or once per trace for the labels a compiled check carries.
"""

from typing import Any

from .._contracts import locate_module, module_paths


class Root:
    """The outermost checked call of one trace: its module (or None for a plain
    function) and, on demand, the path of every module under it."""

    __slots__ = ("module", "loop", "_prefix", "_paths")

    def __init__(self, module: Any) -> None:
        self.module = module
        # The `lax.scan` step counter and this step's count, inside a loop body.
        self.loop: Any = None
        self._prefix: str | None = None
        self._paths: dict[int, str] | None = None

    def anchor(self) -> None:
        """Find the outermost module on the Python stack holding this one; must
        run while the call is on the stack (before a backward pass needs it)."""
        if self._prefix is None and self.module is not None:
            self._prefix = locate_module(self.module)[0]

    def path(self, module: Any) -> str:
        """The full path of `module`, a module under this root."""
        if self.module is None:
            return type(module).__name__
        self.anchor()
        if self._paths is None:
            self._paths = {id(m): p for p, m in module_paths(self.module)}
        below = self._paths.get(id(module))
        if below is None:
            return type(module).__name__
        head = type(self.module).__name__
        return f"{self._prefix}{below[len(head) :]}"


class Site:
    """One checked call: the root it runs under, its module (or None), and the
    name of the method or function."""

    __slots__ = ("root", "module", "member")

    def __init__(self, root: Root, module: Any, member: str) -> None:
        self.root = root
        self.module = module
        self.member = member

    def path(self) -> str:
        if self.module is None:
            return self.member
        return self.root.path(self.module)

    def call(self) -> str:
        """`Net.blocks[3]` for `__call__`, `Net.blocks[3].encode` otherwise."""
        path = self.path()
        if self.module is None or self.member == "__call__":
            return path
        return f"{path}.{self.member}"
