"""`_values/_loops.py` reads `lax.scan`'s own frames (their `length` and `reverse`)
while a loop body is traced: the one JAX internal the value checks rely on. These
tests fail loudly if JAX changes them."""

import jax
import jax.numpy as jnp
import pytest

from typedeqx._values._loops import loop_steps


def _loops_seen(run):
    seen = []

    def body(carry, x):
        steps = loop_steps()
        seen.append(None if steps is None else steps.loops)
        return carry, x

    run(body)
    return seen[-1]


def test_a_scan_over_xs_is_found_with_its_length():
    xs = jnp.arange(5.0)
    assert _loops_seen(lambda body: jax.lax.scan(body, 0.0, xs)) == [(5, False)]


def test_a_scan_with_length_and_reverse_is_found():
    def run(body):
        return jax.lax.scan(body, 0.0, None, length=3, reverse=True)

    assert _loops_seen(run) == [(3, True)]


def test_nested_scans_are_found_outermost_first():
    def run(body):
        def outer(carry, x):
            return jax.lax.scan(body, carry, None, length=2)[0], x

        return jax.lax.scan(outer, 0.0, jnp.arange(4.0))

    assert _loops_seen(run) == [(4, False), (2, False)]


def test_outside_a_scan_there_is_no_loop():
    assert loop_steps() is None


@pytest.mark.parametrize("count, expected", [(0, (0, 0)), (1, (0, 1)), (5, (2, 1))])
def test_steps_decode_in_mixed_radix(count, expected):
    def run(body):
        def outer(carry, x):
            return jax.lax.scan(body, carry, None, length=2)[0], x

        return jax.lax.scan(outer, 0.0, jnp.arange(4.0))

    seen = []

    def body(carry, x):
        seen.append(loop_steps())
        return carry, x

    run(body)
    assert seen[-1].decode(count) == expected
