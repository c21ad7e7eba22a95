"""Static typing: mypy --strict and pyright on src/ and on tests/typing/ (which are
checked against stubs/, never run), stubtest between the stubs and the runtime, and
the stubs of the built wheel used by both checkers on a file outside the repository.

The checkers are slow to start (each reads JAX's annotations), so three chains of
them run concurrently, started by the first test that needs one. The wheel test is
marked slow (about 30 seconds) and runs in CI too.
"""

import concurrent.futures
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
PYTHON = sys.executable
TIMEOUT = 600


Result = subprocess.CompletedProcess[str]


def _run(*args: str | Path, cwd: Path = ROOT) -> Result:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


def _mypy(*args: str | Path, cwd: Path = ROOT) -> Result:
    return _run(PYTHON, "-m", "mypy", *args, cwd=cwd)


def _pyright(*args: str | Path, cwd: Path = ROOT) -> Result:
    return _run(PYTHON, "-m", "pyright", *args, cwd=cwd)


def _mypy_chain() -> dict[str, Result]:
    # One after the other, so that the second reuses the first's cache of JAX.
    # mypy.ini checks src/ by default and resolves `typedeqx` to stubs/ elsewhere.
    return {
        "mypy src": _mypy("--config-file", ROOT / "mypy.ini"),
        "mypy typing": _mypy("--config-file", ROOT / "mypy.ini", TYPING),
    }


def _pyright_chain() -> dict[str, Result]:
    return {
        "pyright src": _pyright(
            "--pythonpath", PYTHON, "-p", ROOT / "pyrightconfig.json"
        ),
        "pyright typing": _pyright(
            "--pythonpath", PYTHON, "-p", TYPING / "pyrightconfig.json"
        ),
    }


def _stubtest_chain() -> dict[str, Result]:
    allowlist = ROOT / "stubs" / "stubtest_allowlist.txt"
    config = ROOT / "mypy.ini"
    return {
        "stubtest": _run(
            PYTHON,
            "-m",
            "mypy.stubtest",
            "typedeqx",
            "--mypy-config-file",
            config,
            "--allowlist",
            allowlist,
        )
    }


_CHAINS = {
    ("mypy src", "mypy typing"): _mypy_chain,
    ("pyright src", "pyright typing"): _pyright_chain,
    ("stubtest",): _stubtest_chain,
}


@pytest.fixture(scope="module")
def check() -> Iterator[Callable[[str], Result]]:
    """`check(name)` waits for the named check's result; all start at once."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(_CHAINS)) as pool:
        futures = {}
        for names, chain in _CHAINS.items():
            future = pool.submit(chain)
            futures.update(dict.fromkeys(names, future))
        yield lambda name: futures[name].result()[name]


def _assert_clean(result: Result) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def test_typing_files_are_only_type_checked() -> None:
    files = sorted(p.name for p in TYPING.glob("*.py"))
    assert "check_tree_at.py" in files
    assert "check_user_code_equinox_and_friends.py" in files
    # pytest collects test_*.py and *_test.py; these files are not run.
    assert not [f for f in files if f.startswith("test_") or f.endswith("_test.py")]


def test_mypy_strict_on_src(check: Callable[[str], Result]) -> None:
    _assert_clean(check("mypy src"))


def test_mypy_strict_on_typing_tests(check: Callable[[str], Result]) -> None:
    # What must be rejected carries `# type: ignore[code]`, and warn_unused_ignores
    # (in --strict) fails a stub that stops rejecting it.
    result = check("mypy typing")
    _assert_clean(result)
    assert f"in {len(list(TYPING.glob('*.py')))} source files" in result.stdout


def test_pyright_on_src(check: Callable[[str], Result]) -> None:
    _assert_clean(check("pyright src"))


def test_pyright_strict_on_typing_tests(check: Callable[[str], Result]) -> None:
    # tests/typing/pyrightconfig.json: strict, `# type: ignore` disabled, and each
    # `# pyright: ignore[rule]` must suppress an error.
    result = check("pyright typing")
    _assert_clean(result)
    assert "0 errors" in result.stdout


def test_stubtest_agrees_with_runtime(check: Callable[[str], Result]) -> None:
    _assert_clean(check("stubtest"))


# A user file outside the repository: precise types where the runtime annotations
# say `Any`, and an error (a write to a Final field) that only the stubs make.
# mypy --strict warns about unused ignores; the pyright comment does the same.
USER_FILE = """\
# pyright: reportUnnecessaryTypeIgnoreComment=error
from typing import assert_type

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array

import typedeqx as eqx

linear = eqx.nn.Linear(2, 3, key=jr.PRNGKey(0))
assert_type(eqx.tree_at(lambda l: l.weight, linear, jnp.zeros((3, 2))), eqx.nn.Linear)
params, static = eqx.partition(linear, eqx.is_array)
assert_type(params, eqx.nn.Linear)


@eqx.filter_jit
def apply(model: eqx.nn.Linear, x: Array) -> Array:
    return model(x)


assert_type(apply(linear, jnp.ones(2)), Array)
linear.weight = jnp.zeros((3, 2))  # type: ignore[misc]
"""


def _runtime_packages() -> set[str]:
    src = ROOT / "src"
    return {
        ".".join(p.parent.relative_to(src).parts)
        for p in (src / "typedeqx").rglob("__init__.py")
    }


def _build_wheel(out: Path) -> Path:
    result = _run(PYTHON, "-m", "build", "--wheel", "--outdir", out, ROOT)
    _assert_clean(result)
    (wheel,) = out.glob("typedeqx-*.whl")
    return wheel


def _purelib(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(_run(python, "-c", code).stdout.strip())


def _fresh_env(where: Path, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed by pip. Its dependencies
    (JAX and friends) come from this environment through a `.pth` file, to spare a
    download of JAX; this environment holds no typedeqx files (it has typedeqx
    installed in editable mode, whose own `.pth` files are not read from there)."""
    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    pip = (python, "-m", "pip", "install", "--no-deps", "--no-index", wheel)
    _assert_clean(_run(*pip))
    here = sysconfig.get_paths()["purelib"]
    (_purelib(python) / "_typedeqx_test_dependencies.pth").write_text(here + "\n")
    return python


def _check_user_file(python: Path, user: Path) -> list[Result]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        mypy = pool.submit(
            _mypy, "--strict", "--python-executable", python, "model.py", cwd=user
        )
        pyright = pool.submit(_pyright, "--pythonpath", python, "model.py", cwd=user)
        return [mypy.result(), pyright.result()]


@pytest.mark.slow
def test_wheel_ships_stubs_used_without_configuration(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    stub_files = {"__init__.pyi", "nn/__init__.pyi", "py.typed"}
    assert {f"typedeqx-stubs/{f}" for f in stub_files} <= names
    assert "typedeqx/py.typed" in names
    inits = [n for n in names if n.endswith("/__init__.py")]
    shipped = {n.removesuffix("/__init__.py").replace("/", ".") for n in inits}
    missing = _runtime_packages() - shipped
    assert not missing, f"list {missing} in [tool.setuptools] packages"

    python = _fresh_env(tmp_path / "env", wheel)
    user = tmp_path / "user"
    user.mkdir()
    (user / "model.py").write_text(USER_FILE)
    for result in _check_user_file(python, user):
        _assert_clean(result)

    # The control: without the stub package, the runtime's own annotations fail
    # the same file in both checkers.
    shutil.rmtree(_purelib(python) / "typedeqx-stubs")
    for result in _check_user_file(python, user):
        assert result.returncode == 1, result.stdout + result.stderr
        assert "assert_type" in result.stdout or "assert-type" in result.stdout
