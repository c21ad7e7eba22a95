"""The `nn` stubs and the sources state the same public signatures.

stubtest (run by `test_typing.py`) compares the stubs with the runtime but never
looks at the sources' annotations, so a source could type `dtype` as `Any` where its
stub says `DTypeLike | None`. This test reads each public layer's `__init__`,
`__call__` and public methods in `stubs/typedeqx/nn/*.pyi` with `ast`, and checks
against the runtime (`inspect.signature`) and the source (`ast` again):

- the parameters' names, kinds and defaults agree (a literal default in the stub
    equals the runtime's; `...` stands for any default);
- the source annotates `dtype` and `key` as the stub does, to the letter;
- the source says `Any` for no parameter the stub types more precisely.
"""

import ast
import importlib
import inspect
import pathlib
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

STUBS = pathlib.Path(__file__).resolve().parent.parent / "stubs" / "typedeqx" / "nn"
_KINDS = inspect.Parameter
# Annotations compared to the letter: the ones the issue found imprecise.
_EXACT = ("dtype", "key")
_NO_DEFAULT = object()


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, Any, Any, ast.expr | None]]:
    """(name, kind, default source or _NO_DEFAULT, annotation) per parameter."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [_NO_DEFAULT] * (len(positional) - len(args.defaults)) + list(
        args.defaults
    )
    kinds = [_KINDS.POSITIONAL_ONLY] * len(args.posonlyargs) + [
        _KINDS.POSITIONAL_OR_KEYWORD
    ] * len(args.args)
    params = [
        (a.arg, kind, d, a.annotation)
        for a, kind, d in zip(positional, kinds, defaults, strict=True)
    ]
    if args.vararg is not None:
        params.append((args.vararg.arg, _KINDS.VAR_POSITIONAL, _NO_DEFAULT, None))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        default = _NO_DEFAULT if d is None else d
        params.append((a.arg, _KINDS.KEYWORD_ONLY, default, a.annotation))
    if args.kwarg is not None:
        params.append((args.kwarg.arg, _KINDS.VAR_KEYWORD, _NO_DEFAULT, None))
    return params


def _decorated(fn: ast.FunctionDef, name: str) -> bool:
    return any(ast.unparse(d).endswith(name) for d in fn.decorator_list)


def _public(name: str) -> bool:
    return not name.startswith("_") or name in ("__init__", "__call__")


def _stub_functions() -> Iterator[tuple[str, str, str, ast.FunctionDef]]:
    """(module, class or "", function name, stub def) for each public signature
    but overloads and properties (stubtest checks those)."""
    for path in sorted(STUBS.glob("_*.pyi")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                defs = [n for n in node.body if isinstance(n, ast.FunctionDef)]
                owner = node.name
            elif isinstance(node, ast.FunctionDef) and _public(node.name):
                defs, owner = [node], ""
            else:
                continue
            overloaded = {d.name for d in defs if _decorated(d, "overload")}
            for fn in defs:
                skip = fn.name in overloaded or _decorated(fn, "property")
                if _public(fn.name) and not skip:
                    yield path.stem, owner, fn.name, fn


CASES = list(_stub_functions())


def _runtime(module: str, owner: str, name: str) -> Any:
    path = "typedeqx.nn" if module == "__init__" else f"typedeqx.nn.{module}"
    namespace = importlib.import_module(path)
    if not owner:
        return namespace.__dict__[name]
    found = inspect.getattr_static(getattr(namespace, owner), name)
    # The function itself, with its `cls` (as the stub writes it).
    return found.__func__ if isinstance(found, (classmethod, staticmethod)) else found


def _source_annotations(func: Any) -> dict[str, ast.expr | None] | None:
    """Each parameter's annotation as the source writes it; `None` for a function
    with no source (the `__init__` a dataclass generates)."""
    try:
        source = textwrap.dedent(inspect.getsource(inspect.unwrap(func)))
    except (OSError, TypeError):
        return None
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return {name: annotation for name, _, _, annotation in _stub_params(node)}


def _default_matches(stub_default: Any, runtime_default: Any) -> bool:
    if stub_default is _NO_DEFAULT:
        return runtime_default is _KINDS.empty
    if runtime_default is _KINDS.empty:
        return False
    if isinstance(stub_default, ast.Constant) and stub_default.value is Ellipsis:
        return True
    try:
        return bool(ast.literal_eval(stub_default) == runtime_default)
    except ValueError:  # a name, such as a sentinel: the stub says "a default"
        return True


def test_every_stub_module_has_cases():
    assert len({module for module, *_ in CASES}) == len(list(STUBS.glob("_*.pyi")))


@pytest.mark.parametrize(
    "module, owner, name, stub",
    CASES,
    ids=[f"{m}.{o}.{n}".replace("..", ".") for m, o, n, _ in CASES],
)
def test_stub_and_source_agree(module, owner, name, stub):
    func = _runtime(module, owner, name)
    runtime = list(inspect.signature(func).parameters.values())
    expected = _stub_params(stub)
    where = f"{module}.{owner}.{name}"
    assert [p.name for p in runtime] == [e[0] for e in expected], where
    assert [p.kind for p in runtime] == [e[1] for e in expected], where
    for param, (_, _, default, _) in zip(runtime, expected, strict=True):
        assert _default_matches(default, param.default), (where, param.name)
    source = _source_annotations(func)
    if source is None:
        return
    for pname, _, _, stub_annotation in expected:
        stub_text = "" if stub_annotation is None else ast.unparse(stub_annotation)
        ours = source.get(pname)
        source_text = "" if ours is None else ast.unparse(ours)
        if pname in _EXACT:
            assert source_text == stub_text, (where, pname)
        if source_text == "Any":
            assert stub_text in ("Any", ""), (where, pname, stub_text)
