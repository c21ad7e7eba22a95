"""`typedeqx/__init__.py`: what a training script never touches is loaded on first
use, and every lazily loaded name still imports both ways."""

import importlib
import subprocess
import sys

import pytest

import typedeqx

LAZY = sorted(typedeqx._LAZY)


def test_import_does_not_load_the_lazy_modules():
    code = (
        "import sys, typedeqx; "
        "print(sorted(m for m in ('typedeqx._serialisation', 'typedeqx._summary', "
        "'typedeqx._enum', 'typedeqx.debug') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", LAZY)
def test_lazy_names_import_both_ways(name):
    value = getattr(typedeqx, name)
    namespace: dict[str, object] = {}
    exec(f"from typedeqx import {name} as got", namespace)
    assert namespace["got"] is value
    assert name in dir(typedeqx)


def test_debug_is_the_subpackage():
    assert typedeqx.debug is importlib.import_module("typedeqx.debug")


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        typedeqx.no_such_name  # noqa: B018
