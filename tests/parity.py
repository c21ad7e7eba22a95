"""Comparing a typedeqx layer with Equinox's: fields exactly equal, outputs exactly
equal (same dtype, same bits)."""

from typing import Any

import jax
import numpy as np


def assert_same_array(ours: Any, theirs: Any, what: str = "") -> None:
    """Same shape, dtype and values, bit for bit (NaNs in the same places)."""
    if ours is None or theirs is None:
        assert ours is None and theirs is None, what
        return
    assert np.shape(ours) == np.shape(theirs), what
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype, what
    assert np.array_equal(np.asarray(ours), np.asarray(theirs), equal_nan=True), what


def assert_same_fields(ours: Any, theirs: Any, *names: str) -> None:
    """Each named field is equal: arrays bit for bit, other values by `==`."""
    for name in names:
        a, b = getattr(ours, name), getattr(theirs, name)
        if isinstance(a, jax.Array | np.ndarray) or isinstance(b, jax.Array):
            assert_same_array(a, b, name)
        else:
            assert a == b, name


def assert_same_output(ours: Any, theirs: Any) -> None:
    """Same PyTree of arrays, bit for bit."""
    ol, ot = jax.tree_util.tree_flatten(ours)
    tl, tt = jax.tree_util.tree_flatten(theirs)
    assert ot == tt
    for a, b in zip(ol, tl):
        assert_same_array(a, b)
