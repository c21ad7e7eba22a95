"""Every example in the docstrings of `src/typedeqx` runs: each `>>>` example prints
what it shows, and each fenced ```` ```python ```` block without `>>>` runs as a
complete program (its own imports, a fresh namespace). A block meant as a sketch
says so in its info string, ```` ```python fragment ````, and is skipped by name.

Modules are found by walking the package, so a new module is covered as soon as it
exists; a module without examples contributes nothing."""

import ast
import doctest
import importlib
import pathlib
import pkgutil
import re
import textwrap

import pytest

import typedeqx

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# An opening fence, its info string, the body, and a closing fence at the same indent.
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
FRAGMENT = "python fragment"


def _module_names() -> list[str]:
    walk = pkgutil.walk_packages(typedeqx.__path__, prefix="typedeqx.")
    return ["typedeqx", *sorted(info.name for info in walk)]


def _docstrings(name: str, *, exclude_empty: bool) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=exclude_empty)
    return finder.find(module, name)


def _examples(name: str) -> list[doctest.DocTest]:
    return [t for t in _docstrings(name, exclude_empty=True) if t.examples]


def fenced_blocks(docstring: str) -> list[tuple[str, str]]:
    """`(info string, dedented body)` of every fenced block in `docstring`."""
    return [
        (match["info"].strip(), textwrap.dedent(match["body"]))
        for match in FENCE.finditer(docstring)
    ]


def _programs(name: str) -> list[tuple[str, str]]:
    """`(where, source)` of every fenced Python block in `name` that is neither a
    doctest (run by `test_examples_run`) nor marked as a fragment."""
    found = []
    for test in _docstrings(name, exclude_empty=False):
        for info, body in fenced_blocks(test.docstring or ""):
            if info == "python" and ">>>" not in body:
                found.append((test.name, body))
            elif info not in ("python", FRAGMENT, "", "text", "console", "bash"):
                raise AssertionError(f"{test.name}: unknown fence info {info!r}")
    return found


def run_program(where: str, source: str) -> None:
    exec(compile(source, f"<docstring of {where}>", "exec"), {"__name__": where})


MODULES = _module_names()


def test_the_walk_finds_the_package():
    assert "typedeqx._contracts._compile" in MODULES
    assert "typedeqx.nn._linear" in MODULES
    assert _examples("typedeqx._contracts._compile")  # it has examples, and runs
    assert _programs("typedeqx._transform._jit")  # it has a program


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _examples(name):
        test.globs.setdefault("typedeqx", typedeqx)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"


@pytest.mark.parametrize("name", MODULES)
def test_fenced_programs_run(name):
    for where, source in _programs(name):
        run_program(where, source)


def test_a_failing_example_fails():
    test = doctest.DocTestParser().get_doctest(
        ">>> 1 + 1\n3\n", {}, "wrong", "wrong.py", 0
    )
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=lambda text: None)
    assert runner.summarize(verbose=False).failed == 1


def test_fences_are_read_and_fragments_told_apart():
    docstring = """Summary.

    ```python
    x = undefined_name
    ```

    ```python fragment
    y = also_undefined
    ```
    """
    blocks = fenced_blocks(docstring)
    assert blocks == [
        ("python", "x = undefined_name\n"),
        (FRAGMENT, "y = also_undefined\n"),
    ]
    with pytest.raises(NameError, match="undefined_name"):
        run_program("wrong", blocks[0][1])


def _exception_classes() -> list[tuple[str, str]]:
    """`(file relative to src/typedeqx, class name)` of every exception class whose
    `class` statement is in typedeqx's source."""
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        path = pathlib.Path(module.__file__)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            obj = getattr(module, node.name, None)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                relative = path.relative_to(pathlib.Path(typedeqx.__file__).parent)
                found.append((relative.as_posix(), node.name))
    return found


def test_the_errors_module_says_where_every_error_lives():
    doc = importlib.import_module("typedeqx._errors").__doc__
    entries = [" ".join(entry.split()) for entry in doc.split("\n- ")]
    missing = []
    for path, cls in _exception_classes():
        if path == "_errors.py":
            ok = f"`{cls}`" in entries[0]
        else:
            ok = any(f"`{cls}`" in e and f"`{path}`" in e for e in entries[1:])
        if not ok:
            missing.append(f"{cls} ({path})")
    assert not missing, f"list these in _errors.py's docstring: {missing}"
