"""`debug.assert_max_traces` and `debug.get_num_traces`, on typedeqx and Equinox."""

import jax
import jax.numpy as jnp
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")


@pytest.fixture(params=["typedeqx", "equinox"])
def lib(request):
    return typedeqx if request.param == "typedeqx" else equinox


def test_inside_filter_jit_counts_compilations(lib):
    @lib.filter_jit
    @lib.debug.assert_max_traces(max_traces=1)
    def f(x, y):
        return x + y

    f(jnp.array(1.0), jnp.array(2.0))
    f(jnp.array(3.0), jnp.array(4.0))
    assert lib.debug.get_num_traces(f) == 1
    with pytest.raises(RuntimeError, match="'y'"):
        f(jnp.array(1.0), jnp.ones(2))


def test_inside_jax_jit_with_positional_fn(lib):
    def f(x):
        return 2 * x

    counted = lib.debug.assert_max_traces(f, max_traces=2)
    g = jax.jit(counted)
    g(jnp.array(1)), g(jnp.array(2)), g(jnp.ones(3))
    assert lib.debug.get_num_traces(counted) == 2
    with pytest.raises(RuntimeError):
        g(jnp.ones(4))


def test_outside_jit_counts_calls(lib):
    counted = lib.debug.assert_max_traces(lambda x: x, max_traces=None)
    for i in range(4):
        assert counted(i) == i
    assert lib.debug.get_num_traces(counted) == 4


def test_keeps_the_name(lib):
    def my_function(x):
        """Doc."""
        return x

    wrapped = lib.debug.assert_max_traces(my_function, max_traces=1)
    assert wrapped.__name__ == "my_function" and wrapped.__doc__ == "Doc."


def test_separate_wrappers_count_separately(lib):
    def f(x):
        return x

    a = jax.jit(lib.debug.assert_max_traces(f, max_traces=1))
    b = jax.jit(lib.debug.assert_max_traces(f, max_traces=1))
    a(jnp.array(1.0)), b(jnp.array(1.0))
    assert lib.debug.get_num_traces(a) == 1 and lib.debug.get_num_traces(b) == 1


def test_non_function_callable(lib):
    class Double(lib.Module):
        scale: jax.Array

        def __call__(self, x):
            return self.scale * x

    counted = lib.filter_jit(
        lib.debug.assert_max_traces(Double(jnp.array(2.0)), max_traces=1)
    )
    assert counted(jnp.array(3.0)) == 6.0
    assert counted(jnp.array(4.0)) == 8.0
    assert lib.debug.get_num_traces(counted) == 1


def test_get_num_traces_of_an_unwrapped_function(lib):
    with pytest.raises(ValueError):
        lib.debug.get_num_traces(lambda x: x)


def test_message_names_the_argument_and_limit():
    @typedeqx.filter_jit
    @typedeqx.debug.assert_max_traces(max_traces=1)
    def f(first, second):
        return first + second

    f(jnp.array(1.0), jnp.array(2.0))
    with pytest.raises(
        RuntimeError, match=r"can only be traced 1 times(.|\n)*'second'(.|\n)*f32\[2\]"
    ):
        f(jnp.array(1.0), jnp.ones(2))


def test_message_when_no_argument_changed():
    counted = typedeqx.debug.assert_max_traces(lambda x: x, max_traces=1)
    counted(jnp.array(1.0))
    with pytest.raises(RuntimeError, match="Could not tell which argument"):
        counted(jnp.array(2.0))
