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


def test_methods_are_plain_functions_in_the_class_dict():
    assert inspect.isfunction(Scale.__dict__["__call__"])
    assert inspect.isfunction(Scale.__dict__["double"])
    assert Scale.__dict__["double"] is Scale.double


def _wrapping_library(lib):
    """What libraries built on Equinox do: wrap each subclass's methods in
    `__init_subclass__` (here, to log the calls)."""
    log = []

    def logged(method):
        def wrapper(self, *args, **kwargs):
            log.append(method.__name__)
            return method(self, *args, **kwargs)

        wrapper.__name__ = method.__name__
        return wrapper

    class Bijector(lib.Module):
        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__(**kwargs)
            for name in ("forward", "inverse"):
                if name in cls.__dict__:
                    setattr(cls, name, logged(cls.__dict__[name]))

    class Shift(Bijector):
        shift: jax.Array

        def forward(self, x):
            return x + self.shift

        def inverse(self, y):
            return y - self.shift

    return Shift, log


def test_methods_wrapped_in_init_subclass_stay_pytrees():
    eqx_ref = pytest.importorskip("equinox")
    results = []
    for lib in (eqx, eqx_ref):
        Shift, log = _wrapping_library(lib)
        shift = Shift(jnp.array(2.0))
        forward = shift.forward
        assert isinstance(forward, lib.Module)  # a bound-method PyTree
        assert jtu.tree_leaves(forward) == [shift.shift]
        y = lib.filter_jit(lambda f, x: f(x))(forward, jnp.array(1.0))
        x = shift.inverse(y)
        results.append((float(y), float(x), log))
    assert results[0] == results[1] == (3.0, 1.0, ["forward", "inverse"])


def test_a_method_set_on_the_class_later_binds_as_a_pytree():
    class Later(eqx.Module):
        factor: jax.Array

    def triple(self, x):
        return 3 * self.factor * x

    Later.triple = triple
    later = Later(jnp.array(2.0))
    assert jtu.tree_leaves(later.triple) == [later.factor]
    assert float(later.triple(jnp.array(1.0))) == 6.0


def test_dunder_methods_other_than_call_are_ordinary():
    s = Scale(jnp.array(1.0))
    assert not isinstance(s.__repr__, eqx.Module)
    assert isinstance(s.__call__, eqx.Module)
