"""Every `>>>` example in the docstrings of `src/typedeqx` runs and prints what it
shows. Modules are found by walking the package, so a new module is covered as soon
as it exists; a module without examples contributes nothing."""

import doctest
import importlib
import pkgutil

import pytest

import typedeqx

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    walk = pkgutil.walk_packages(typedeqx.__path__, prefix="typedeqx.")
    return ["typedeqx", *sorted(info.name for info in walk)]


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, name) if t.examples]


MODULES = _module_names()


def test_the_walk_finds_the_package():
    assert "typedeqx._contracts._compile" in MODULES
    assert "typedeqx.nn._linear" in MODULES
    assert _examples("typedeqx._contracts._compile")  # it has examples, and runs


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _examples(name):
        test.globs.setdefault("typedeqx", typedeqx)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"


def test_a_failing_example_fails():
    test = doctest.DocTestParser().get_doctest(
        ">>> 1 + 1\n3\n", {}, "wrong", "wrong.py", 0
    )
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=lambda text: None)
    assert runner.summarize(verbose=False).failed == 1
