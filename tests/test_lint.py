"""The repository is clean under the project's ruff configuration (pyproject.toml):
`ruff check` and `ruff format --check` over everything ruff would look at. ruff is
pinned in the test extra, since its rules and formatting change between versions;
without it these tests fail rather than skip."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_ruff_check():
    out = _ruff("check", "--output-format", "concise")
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format():
    out = _ruff("format", "--check")
    assert out.returncode == 0, out.stdout + out.stderr
