"""The import graph of `src/typedeqx`, read from the source with `ast` (imports
inside functions included): it has no cycle, and the core subpackages are used only
through their public face."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
# Subpackages whose private files only their own modules may import.
SEALED = ("typedeqx._contracts", "typedeqx._module")


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_name(p): p for p in sorted((SRC / "typedeqx").rglob("*.py"))}


def _targets(name: str, path: Path) -> Iterator[str]:
    """Every module of typedeqx that `name` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                head = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{head}.{base}" if base else head
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def graph() -> dict[str, set[str]]:
    return {
        name: {t for t in _targets(name, path) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `edges` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_reader_sees_the_imports():
    edges = graph()
    assert len(MODULES) > 20
    assert "typedeqx._contracts" in edges["typedeqx.nn._linear"]
    assert "typedeqx._contracts._plan" in edges["typedeqx._contracts._call"]


def test_find_cycle_finds_a_function_level_import(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from .other import thing\n")
    assert list(_targets("typedeqx.m", module)) == ["typedeqx.other"]


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


@pytest.mark.parametrize("sealed", SEALED)
def test_private_files_are_imported_only_from_inside(sealed):
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if target.startswith(sealed + ".")
        and not name.startswith(sealed + ".")
        and name != sealed
    )
    assert not offenders, f"use the public face {sealed} instead: {offenders}"
