"""filter_pmap. The tests run on however many devices JAX sees (one CPU device by
default), so the mapped axes have that size."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx

N = jax.local_device_count()


def test_maps_arrays_and_keeps_the_rest():
    @eqx.filter_pmap
    def f(x, fn, label):
        return fn(x), label

    out, label = f(jnp.arange(N * 3.0).reshape(N, 3) - 2, jax.nn.relu, "l")
    assert label == "l"
    np.testing.assert_allclose(out, np.maximum(np.arange(N * 3.0).reshape(N, 3) - 2, 0))


def test_compiles_once_per_static_part():
    traces = []

    def fn(x, n):
        traces.append(None)
        return x * n

    f = eqx.filter_pmap(fn)
    x = jnp.ones((N, 2))
    f(x, 2.0)
    f(x + 1, 2.0)
    assert len(traces) == 1
    np.testing.assert_allclose(f(x, 3.0), 3 * np.ones((N, 2)))
    assert len(traces) == 2


def test_axes_and_collectives():
    f = eqx.filter_pmap(
        lambda x, y: (x + y, jax.lax.psum(x, "d")),
        in_axes=(0, None),
        out_axes=(eqx.if_array(1), 0),
        axis_name="d",
    )
    total, summed = f(jnp.ones((N, 3)), jnp.ones(3))
    assert total.shape == (3, N) and summed.shape == (N, 3)


def test_donation_and_errors():
    f = eqx.filter_pmap(lambda x: x + 1, donate="all")
    x = jnp.ones((N, 2))
    f(x)
    assert x.is_deleted()
    with pytest.raises(eqx.TransformError, match="donate"):
        eqx.filter_pmap(lambda x: x, donate="some")  # type: ignore[call-overload]
    with pytest.raises(eqx.TransformError, match="donate_argnums"):
        eqx.filter_pmap(lambda x: x, donate_argnums=0)
    with pytest.raises(eqx.TransformError, match="positional arguments only"):
        eqx.filter_pmap(lambda x: x)(x=jnp.ones((N, 1)))
    with pytest.raises(eqx.TransformError, match="only arrays can be mapped"):
        eqx.filter_pmap(lambda x, f: x, in_axes=0)(jnp.ones((N, 1)), jax.nn.relu)

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    with pytest.raises(eqx.TransformError, match=r"args\[1\] is a Unhashable"):
        eqx.filter_pmap(lambda x, u: x)(jnp.ones((N, 1)), Unhashable())


def test_decorator_form_and_method():
    class Shift(eqx.Module):
        by: float

        @eqx.filter_pmap(in_axes=(None, 0))
        def apply(self, x):
            return x + self.by

    np.testing.assert_allclose(Shift(1.0).apply(jnp.zeros((N, 2))), np.ones((N, 2)))


def test_array_and_static_in_swapped_positions_compile_separately():
    f = eqx.filter_pmap(lambda a, b: a * 2.0 if eqx.is_array(a) else b * 3.0)
    x = jnp.ones((N, 3))
    assert float(f(x, 3)[0, 0]) == 2.0
    assert float(f(3, x)[0, 0]) == 3.0
