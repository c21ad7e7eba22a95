"""The README's first example runs and fails exactly as the README says."""

import pathlib
import re

import pytest

import typedeqx

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_readme_example_error_message():
    text = README.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    source, failing = block.group(1).split("model(jnp.ones(5))\n")
    namespace: dict = {}
    exec(source, namespace)
    promised = " ".join(line.lstrip("# ") for line in failing.strip().splitlines())
    with pytest.raises(typedeqx.ShapeError) as info:
        namespace["model"](namespace["jnp"].ones(5))
    assert f"typedeqx.ShapeError: {info.value}" == promised


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{ci}\n```" in README.read_text()
