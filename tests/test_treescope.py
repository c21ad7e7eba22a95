"""Modules in treescope: arrays as shape, dtype and contract dimension names."""

import subprocess
import sys

import jax.numpy as jnp
import pytest

from typedeqx import Module, field, nn

treescope = pytest.importorskip("treescope")


def test_checked_layer_shows_dimension_names(getkey):
    lin = nn.Linear(3, 4, key=getkey())
    assert treescope.render_to_text(lin) == (
        "Linear(\n"
        "  weight=f32[4,3] (out_features, in_features),\n"
        "  bias=f32[4] (out_features),\n"
        "  in_features=3,\n"
        "  out_features=4,\n"
        "  use_bias=True,\n"
        ")"
    )


def test_nested_and_unchecked_modules(getkey):
    class Head(Module):
        table: jnp.ndarray
        size: int = field(static=True)

    class Model(Module):
        body: nn.Linear
        head: Head

    model = Model(
        nn.Linear(2, 2, use_bias=False, key=getkey()),
        Head(jnp.zeros((3, 2), jnp.int32), 3),
    )
    text = treescope.render_to_text(model)
    assert "weight=f32[2,2] (out_features, in_features)" in text
    assert "table=i32[3,2]," in text
    assert "size=3" in text


def test_importing_typedeqx_imports_no_optional_package():
    code = (
        "import sys, typedeqx; "
        "print(sorted(m for m in ('treescope', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
