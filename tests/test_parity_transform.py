"""Differential tests: the same inputs through Equinox and typedeqx, comparing
results, exception types and warning categories (issue 9, transformations)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")
LIBS = pytest.mark.parametrize("lib", [eqx, eqx_ref], ids=["typedeqx", "equinox"])


def _scalar_jvp_rule(lib):
    @lib.filter_custom_jvp
    def f(x, y):
        return x * y

    @f.def_jvp
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        tx = 0.0 if tx is None else tx
        ty = 0.0 if ty is None else ty
        return x * y, tx * y + x * ty

    return f


def test_custom_jvp_python_scalar_tangents():  # regression: bug 1
    def derivatives(f):
        return (
            jax.grad(lambda x: f(x, 3.0))(2.0),
            jax.grad(lambda y: f(2.0, y))(3.0),
            jax.jvp(lambda x: f(x, 3.0), (2.0,), (1.0,)),
        )

    results = [derivatives(_scalar_jvp_rule(lib)) for lib in (eqx, eqx_ref)]
    assert results[0] == results[1]
    assert results[0][0] == 3.0 and results[0][1] == 2.0


def test_closure_convert_over_python_float_is_differentiable():  # bug 1
    out = []
    for lib in (eqx, eqx_ref):

        def g(x, lib=lib):
            c = lib.filter_closure_convert(lambda a: a * x, jnp.array(1.0))

            @lib.filter_custom_jvp
            def call(c, a):
                return c(a)

            @call.def_jvp
            def call_jvp(primals, tangents):
                (c, a), (tc, _) = primals, tangents
                assert tc is not None
                return c(a), tc.consts[0] * a

            return call(c, jnp.array(2.0))

        out.append(jax.grad(g)(3.0))
    assert out[0] == out[1] == 2.0


def _count(lib, make):
    traces = []

    def f(x):
        traces.append(None)
        return jnp.sum(x + 1)

    for _ in range(3):
        make(lib, f)(jnp.ones(2))
    return len(traces)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, f: lib.filter_jit(f),
        lambda lib, f: lib.filter_jit(lib.filter_vmap(f)),
        lambda lib, f: lib.filter_jit(lib.filter_grad(f)),
        lambda lib, f: lib.filter_pmap(f, axis_size=1, in_axes=None),
    ],
    ids=["jit", "jit-vmap", "jit-grad", "pmap"],
)
def test_new_wrappers_trace_once(make):  # regression: bug 2
    assert _count(eqx, make) == 1 <= _count(eqx_ref, make)


class _Affine(eqx.Module):
    weight: jax.Array

    def __call__(self, x):
        return self.weight * x


def test_new_wrappers_of_modules_share_code_without_stale_arrays():
    traces = []

    class M(eqx.Module):
        w: jax.Array

        def __call__(self, x):
            traces.append(None)
            return self.w * x

    a, b = M(jnp.array(2.0)), M(jnp.array(5.0))
    assert eqx.filter_jit(a)(jnp.array(1.0)) == 2.0
    assert eqx.filter_jit(b)(jnp.array(1.0)) == 5.0  # not a's weights
    assert eqx.filter_jit(b.__call__)(jnp.array(1.0)) == 5.0
    assert len(traces) <= 2


def test_wrapper_value_equality():
    f = lambda x: x  # noqa: E731
    assert eqx.filter_grad(f) == eqx.filter_grad(f)
    assert hash(eqx.filter_vmap(f)) == hash(eqx.filter_vmap(f))
    assert eqx.filter_grad(f) != eqx.filter_grad(f, has_aux=True)
    assert eqx.filter_jit(f) == eqx.filter_jit(f)
    assert eqx.filter_jit(f) != eqx.filter_jit(lambda x: x)


def test_shared_cache_is_bounded():
    from typedeqx._transform import _compile_cache, _jit

    for _ in range(_compile_cache.MAX_ENTRIES + 5):
        eqx.filter_jit(lambda x: x)
    assert len(_jit._REGISTRY) <= _compile_cache.MAX_ENTRIES


class _Ref(eqx.Module):
    weight: jax.Array

    def __call__(self):
        return self.weight * 2


def test_donate_all_donates_callable_arrays_like_equinox():  # regression: bug 3
    class R(eqx_ref.Module):
        weight: jax.Array

        def __call__(self):
            return self.weight * 2

    ours, theirs = _Ref(jnp.ones(3)), R(jnp.ones(3))
    eqx.filter_jit(ours, donate="all")()
    eqx_ref.filter_jit(theirs, donate="all")()
    assert ours.weight.is_deleted() == theirs.weight.is_deleted() == True  # noqa: E712


@LIBS
def test_pmap_axis_size_without_mapped_input(lib):  # regression: bug 4
    f = lib.filter_pmap(lambda *a: (jnp.ones(2), a, "s"), axis_size=1, in_axes=None)
    out, args, label = f(jnp.ones(3), 3.0)
    assert out.shape == (1, 2) and args[0].shape == (1, 3) and args[1] == 3.0
    assert label == "s"
    out, args, _ = f()
    assert out.shape == (1, 2) and args == ()


@LIBS
def test_pmap_rank0_raises_value_error(lib):
    with pytest.raises(ValueError, match="axis 0|rank"):
        lib.filter_pmap(lambda x: x)(jnp.array(1.0))


def test_pmap_rank0_names_the_argument():
    with pytest.raises(ValueError, match=r"args\[0\]"):
        eqx.filter_pmap(lambda x: x)(jnp.array(1.0))


@LIBS
def test_filter_jvp(lib):
    f = lambda x, y, s: (x * y, jnp.ones(2), s, 3)  # noqa: E731
    out, t = lib.filter_jvp(
        f, (jnp.array(2.0), jnp.array(3.0), "s"), (jnp.array(1.0), None, None)
    )
    assert out[0] == 6.0 and out[2:] == ("s", 3)
    assert t[0] == 3.0 and t[1:] == (None, None, None)

    def outer(x):
        return lib.filter_jvp(lambda y: y * x, (x,), (jnp.array(1.0),))[1]

    assert lib.filter_jvp(outer, (jnp.array(2.0),), (jnp.array(1.0),))[1] == 1.0
    with pytest.raises(ValueError):
        lib.filter_jvp(f, (1.0, 2.0, "s"), (None,))


@LIBS
def test_filter_vjp(lib):
    out, vjp = lib.filter_vjp(lambda x, n: (x * 2, n), jnp.ones(2), 3)
    assert out[1] == 3
    grads = vjp((jnp.ones(2), None))
    np.testing.assert_allclose(grads[0], 2.0)
    assert grads[1] is None
    out, vjp, aux = lib.filter_vjp(lambda x: (x * 2, "a"), jnp.ones(2), has_aux=True)
    assert aux == "a"


@LIBS
def test_jit_lower_compile(lib):
    f = lib.filter_jit(lambda x, n, s: (x * n, s))
    lowered = f.lower(jnp.ones(2), 3, "s")
    assert "mul" in lowered.as_text()
    compiled = lowered.compile(compiler_options=None)
    out, s = compiled(jnp.ones(2), 3, "s")
    np.testing.assert_allclose(out, 3.0)
    assert s == "s"


@LIBS
def test_pmap_lower_compile(lib):
    f = lib.filter_pmap(lambda x, s: (x * 2, s), out_axes=(0, None))
    compiled = f.lower(jnp.ones((1, 2)), "s").compile()
    out, s = compiled(jnp.ones((1, 2)), "s")
    np.testing.assert_allclose(out, 2.0)
    assert s == "s"


@LIBS
def test_custom_vjp_defvjp_is_deprecated(lib):
    f = lib.filter_custom_vjp(lambda x: x * 2)
    with pytest.warns(UserWarning) as record:
        f.defvjp(lambda x: (x * 2, None), lambda res, g, x: g * 3)
    assert {type(w.message) for w in record} == {UserWarning}
    assert jax.grad(f)(jnp.array(1.0)) == 3.0


@LIBS
def test_closure_convert_out_struct(lib):
    c = jnp.ones(2)
    g = lib.filter_closure_convert(lambda x: (x + c, "s"), jnp.ones(2))
    assert g.out_struct == (jax.ShapeDtypeStruct((2,), jnp.float32), "s")
    trivial = lib.filter_closure_convert(lambda x: (x * 2, "s"), jnp.ones(2))
    assert not hasattr(trivial, "jaxpr")
    assert trivial.out_struct == (jax.ShapeDtypeStruct((2,), jnp.float32), "s")
    np.testing.assert_allclose(trivial(jnp.ones(2))[0], 2.0)


@LIBS
def test_grad_first_argument_by_keyword(lib):
    with pytest.raises(TypeError):
        lib.filter_grad(lambda x: x)(x=jnp.array(1.0))


@LIBS
def test_custom_vjp_non_first_argument(lib):
    f = lib.filter_custom_vjp(lambda x, y: x * y)
    f.def_fwd(lambda p, x, y: (x * y, None))
    f.def_bwd(lambda r, g, p, x, y: g * y)
    with pytest.raises(RuntimeError):
        jax.grad(lambda y: f(jnp.array(1.0), y))(jnp.array(2.0))


@LIBS
def test_callback_wrong_shape_is_runtime_error(lib):
    def cb(x):
        return np.zeros(3, np.float32)

    struct = jax.ShapeDtypeStruct((2,), jnp.float32)
    f = lib.filter_jit(
        lambda x: lib.filter_pure_callback(cb, x, result_shape_dtypes=struct)
    )
    with pytest.raises(RuntimeError):
        jax.block_until_ready(f(jnp.ones(2)))


@LIBS
def test_vmap_python_scalar_output_is_broadcast(lib):
    x, y = lib.filter_vmap(lambda x: (x, 3.0), out_axes=0)(jnp.ones(2))
    np.testing.assert_allclose(y, [3.0, 3.0])
    with pytest.raises(TypeError):
        lib.filter_vmap(lambda x: (x, "s"), out_axes=0)(jnp.ones(2))
