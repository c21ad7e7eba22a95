"""Test-wide settings: strict JAX promotion rules, warnings as errors (see
pyproject.toml), and a `getkey` fixture handing out fresh PRNG keys."""

import itertools

import jax
import jax.random as jr
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_platforms", "cpu")


@pytest.fixture
def getkey():
    """A function that returns a new, distinct PRNG key on each call."""
    counter = itertools.count()
    base = jr.PRNGKey(0)
    return lambda: jr.fold_in(base, next(counter))


# Property-based tests draw a modest number of examples so that CI stays short; JAX
# compiles on first use, so example timing is meaningless and deadlines are off.
try:
    from hypothesis import settings

    settings.register_profile("typedeqx", max_examples=25, deadline=None)
    settings.load_profile("typedeqx")
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
