"""The pytest plugin: `pytest --typedeqx-values` runs a suite with value checks
on, and a test failing with a ShapeError or ValueCheckError reports the model's
summary up to the failing call. Inactive without the option."""

import pytest

pytest_plugins = ["pytester"]

MODEL = """
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import typedeqx as eqx


@eqx.checked
class Block(eqx.Module):
    lin: eqx.nn.Linear
    divides: bool = eqx.field(static=True)

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        h = self.lin(x)
        return h / 0.0 if self.divides else h


@eqx.checked
class Net(eqx.Module):
    blocks: list[Block]

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        for block in self.blocks:
            x = block(x)
        return x


def make():
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    return Net([Block(eqx.nn.Linear(4, 4, key=k), i == 2) for i, k in enumerate(keys)])
"""

TESTS = """
import jax.numpy as jnp
import typedeqx as eqx
from model import make


def test_diverges():
    out = eqx.filter_jit(make())(jnp.ones(4))
    assert out.shape == (4,)  # passes unless value checks are on


def test_wrong_shape():
    make()(jnp.ones(5))


def test_values_on():
    from typedeqx._contracts import VALUES, checks_enabled
    assert checks_enabled() is VALUES
"""


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(model=MODEL, test_suite=TESTS)
    pytester.syspathinsert()
    return pytester


def test_off_without_the_option(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(passed=1, failed=2)
    assert "typedeqx summary" not in result.stdout.str()


def test_values_on_with_the_option(suite):
    result = suite.runpytest(
        "--typedeqx-values", "-p", "no:cacheprovider", "-W", "ignore"
    )
    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*ValueCheckError: A NaN or infinity first appeared in the output of "
            "`Net.blocks[[]2]` (forward pass)*",
        ]
    )
    # Each failing test's report carries the summary section.
    parts = text.split("typedeqx summary")
    assert len(parts) == 3
    diverged = parts[1].split("test_wrong_shape")[0]
    assert "The model's calls up to the failing one:" in diverged
    assert "Net.blocks[2]      Block" in diverged
    assert "Net.blocks[3]" not in diverged  # the table ends at the failing call
    wrong = parts[2]
    assert "Net.blocks[0].lin  Linear  failed" in wrong
    assert "ShapeError: Net.blocks[0].lin (Linear.__call__)" in wrong
