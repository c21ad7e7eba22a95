"""Methods looked up on an instance are PyTrees."""

import inspect

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx


class Scale(eqx.Module):
    factor: jax.Array

    def __call__(self, x):
        return self.factor * x

    def double(self, x):
        """Twice the scaled input."""
        return 2 * self(x)


def test_bound_method_leaves_are_the_module_leaves():
    s = Scale(jnp.array(3.0))
    for method in (s.__call__, s.double):
        leaves = jtu.tree_leaves(method)
        assert len(leaves) == 1 and leaves[0] is s.factor
        paths = [jtu.keystr(p) for p, _ in jtu.tree_flatten_with_path(method)[0]]
        assert paths == [".__self__.factor"]


def test_bound_method_round_trips_and_calls():
    s = Scale(jnp.array(3.0))
    leaves, treedef = jtu.tree_flatten(s.double)
    rebuilt = jtu.tree_unflatten(treedef, [jnp.array(5.0)])
    assert float(rebuilt(jnp.array(1.0))) == 10.0


def test_jax_jit_over_a_bound_method_traces_the_module_arrays():
    s = Scale(jnp.array(3.0))
    traced = jax.jit(lambda f, x: f(x))
    assert float(traced(s.__call__, jnp.array(2.0))) == 6.0
    s2 = Scale(jnp.array(4.0))
    assert float(traced(s2.__call__, jnp.array(2.0))) == 8.0


def test_grad_through_a_bound_method():
    s = Scale(jnp.array(3.0))
    grads = jax.grad(lambda f: f(jnp.array(2.0)))(s.__call__)
    assert np.isclose(grads.__self__.factor, 2.0)


def test_class_lookup_gives_the_function():
    assert inspect.isfunction(Scale.double)
    assert Scale.double.__doc__ == "Twice the scaled input."
    s = Scale(jnp.array(1.0))
    assert float(Scale.double(s, jnp.array(1.0))) == 2.0


def test_signature_name_and_equality():
    s = Scale(jnp.array(1.0))
    assert list(inspect.signature(s.double).parameters) == ["x"]
    assert s.double.__name__ == "double"
    assert s.double == s.double
    assert s.double == Scale(jnp.array(1.0)).double  # equal by value, as in Equinox
    assert s.double != Scale(jnp.array(2.0)).double
    with pytest.raises(TypeError):  # holds an array, so unhashable, as in Equinox
        hash(s.double)
    assert "bound method" in repr(s.double)
