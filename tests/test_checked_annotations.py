"""The jaxtyping annotation language under `@typedeqx.checked` (on functions, whose
semantics match `jaxtyped(typechecker=beartype)`): every form passes what it should
and fails what it should, with dimensions shared across arguments and return."""

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import (
    Array,
    ArrayLike,
    Bool,
    Float,
    Float32,
    Inexact,
    Int,
    Key,
    PRNGKeyArray,
    PyTree,
    Scalar,
    Shaped,
    UInt8,
)

import typedeqx
from helpers import ones
from typedeqx import ShapeError, checked

f32 = jnp.float32


@pytest.mark.parametrize(
    "hint, good, bad",
    [
        (Float[Array, ""], ones(), ones(dtype=jnp.int32)),
        (Int[Array, ""], ones(dtype=jnp.int32), ones()),
        (Bool[Array, ""], ones(dtype=bool), ones()),
        (Shaped[Array, ""], ones(dtype=jnp.int8), ones(2)),
        (Inexact[Array, ""], ones(dtype=jnp.complex64), ones(dtype=jnp.int32)),
        (Float32[Array, ""], ones(), ones(dtype=jnp.float16)),
        (UInt8[Array, ""], ones(dtype=jnp.uint8), ones(dtype=jnp.int8)),
        (Key[Array, ""], jr.key(0), jr.PRNGKey(0)),
        (Scalar, ones(), ones(1)),
    ],
)
def test_dtype_families(hint, good, bad):
    @checked
    def f(x: hint):
        return x

    f(good)
    with pytest.raises(ShapeError):
        f(bad)


def test_prng_key_array_accepts_both_key_styles():
    @checked
    def f(key: PRNGKeyArray):
        return key

    f(jr.key(0))
    f(jr.PRNGKey(0))
    with pytest.raises(ShapeError):
        f(ones(2))


def test_fixed_sizes_and_named_dims_shared():
    @checked
    def f(x: Float[Array, "n 3"], y: Float[Array, " n"]) -> Float[Array, " n"]:
        return y

    f(ones(4, 3), ones(4))
    with pytest.raises(ShapeError, match="axis 1 has size 2, expected 3"):
        f(ones(4, 2), ones(4))
    with pytest.raises(ShapeError, match="n=4"):
        f(ones(4, 3), ones(5))


def test_equals_syntax_is_a_fixed_size():
    @checked
    def f(x: Float[Array, "rows=2"]):
        return x

    f(ones(2))
    with pytest.raises(ShapeError):
        f(ones(3))


def test_return_is_checked_against_argument_bindings():
    @checked
    def f(x: Float[Array, " n"]) -> Float[Array, " n"]:
        return jnp.concatenate([x, x])

    with pytest.raises(ShapeError, match="return value is f32\\[6\\]"):
        f(ones(3))


def test_variadic_dims():
    @checked
    def f(
        x: Float[Array, "*batch c"], y: Float[Array, "*batch"]
    ) -> Float[Array, "*batch"]:
        return y

    f(ones(2, 5, 3), ones(2, 5))
    f(ones(3), ones())
    with pytest.raises(ShapeError, match=r"\*batch=\(2, 5\)"):
        f(ones(2, 5, 3), ones(2, 4))


def test_ellipsis_accepts_any_leading_axes():
    @checked
    def f(x: Float[Array, "... n"], y: Float[Array, " n"]):
        return x

    f(ones(7, 2, 3), ones(3))
    f(ones(3), ones(3))
    with pytest.raises(ShapeError, match="rank 0, expected rank 1 or more"):
        f(ones(), ones(3))


def test_broadcastable_dims():
    @checked
    def f(x: Float[Array, " #n"], y: Float[Array, " #n"]):
        return x

    f(ones(1), ones(4))
    f(ones(4), ones(1))
    f(ones(4), ones(4))
    with pytest.raises(ShapeError):
        f(ones(4), ones(3))


def test_broadcastable_variadic():
    @checked
    def f(x: Float[Array, "*#b"], y: Float[Array, "*#b"]):
        return x

    f(ones(1, 3), ones(2, 3))
    with pytest.raises(ShapeError):
        f(ones(2, 3), ones(4, 3))


def test_anonymous_dims_bind_nothing():
    @checked
    def f(x: Float[Array, "_ n"], y: Float[Array, "_foo n"]):
        return x

    f(ones(2, 3), ones(5, 3))
    with pytest.raises(ShapeError):
        f(ones(2, 3), ones(2, 4))


def test_symbolic_dims():
    @checked
    def f(x: Float[Array, " n"]) -> Float[Array, " n+1"]:
        return jnp.concatenate([x, ones(1)])

    assert f(ones(3)).shape == (4,)

    @checked
    def g(x: Float[Array, " n"]) -> Float[Array, " 2*n"]:
        return x

    with pytest.raises(ShapeError, match="expected 2\\*n=6"):
        g(ones(3))


def test_symbolic_dim_in_argument_uses_later_bindings():
    @checked
    def f(y: Float[Array, " n-1"], x: Float[Array, " n"]):
        return x

    f(ones(2), ones(3))
    with pytest.raises(ShapeError, match="n=3"):
        f(ones(3), ones(3))


def test_symbolic_dim_with_unbound_name_is_an_annotation_error():
    from jaxtyping import AnnotationError

    @checked
    def f(x: Float[Array, " m+1"]):
        return x

    with pytest.raises(AnnotationError, match="'m' is not bound"):
        f(ones(2))


def test_symbolic_dim_from_argument_value():
    @checked
    def f(x: Float[Array, " {k}"], k: int):
        return x

    f(ones(3), 3)
    with pytest.raises(ShapeError):
        f(ones(3), 4)  # not memoised away: the value of k matters


def test_optional_and_unions():
    @checked
    def f(x: Float[Array, " n"] | None, y: Float[Array, " n"]):
        return y

    f(None, ones(2))
    f(ones(2), ones(2))
    with pytest.raises(ShapeError):
        f(ones(3), ones(2))

    @checked
    def g(x: Float[Array, " n"] | Int[Array, "n n"]):
        return x

    g(ones(3))
    g(ones(2, 2, dtype=jnp.int32))
    with pytest.raises(ShapeError):
        g(ones(2, 3, dtype=jnp.int32))


def test_failed_union_alternative_leaves_no_binding():
    @checked
    def f(x: Float[Array, "n 1"] | Float[Array, "m 2"], y: Float[Array, " m"]):
        return y

    # first alternative binds n=4 in scratch, fails on the 2; m=4 is then bound
    f(ones(4, 2), ones(4))
    with pytest.raises(ShapeError):
        f(ones(4, 2), ones(5))


def test_array_like_accepts_numpy_and_python_scalars():
    @checked
    def f(x: Float[ArrayLike, ""]):
        return x

    f(1.0)
    f(np.float32(1.0))
    f(ones())
    with pytest.raises(ShapeError):
        f("nope")


def test_numpy_array_against_jax_array_annotation():
    @checked
    def f(x: Float[Array, " n"]):
        return x

    with pytest.raises(ShapeError, match="expected a jax.Array"):
        f(np.ones(3, np.float32))

    @checked
    def g(x: Float[np.ndarray, " n"]):
        return x

    g(np.ones(3, np.float32))


def test_pytree_of_arrays():
    @checked
    def f(tree: PyTree[Float[Array, " n"]], y: Float[Array, " n"]):
        return y

    f({"a": ones(3), "b": [ones(3)]}, ones(3))
    with pytest.raises(ShapeError, match=r"at \['b'\]\[0\]"):
        f({"a": ones(3), "b": [ones(4)]}, ones(3))


def test_pytree_structure_names():
    @checked
    def f(x: PyTree[Float[Array, ""], " T"], y: PyTree[Float[Array, ""], " T"]):
        return x

    f((ones(), ones()), (ones(), ones()))
    with pytest.raises(ShapeError, match="structure"):
        f((ones(), ones()), [ones(), ones()])


def test_pytree_treepath_dims():
    @checked
    def f(x: PyTree[Float[Array, " ?n"], " T"], y: PyTree[Float[Array, " ?n"], " T"]):
        return x

    f((ones(2), ones(3)), (ones(2), ones(3)))
    with pytest.raises(ShapeError):
        f((ones(2), ones(3)), (ones(3), ones(3)))


def test_pytree_composite_structure_falls_back_to_jaxtyping():
    @checked
    def f(x: PyTree[int, " T"], y: PyTree[int, " S"], z: PyTree[int, "S T"]):
        return z

    f((1, 2), {"k": 3}, {"k": (4, 5)})
    with pytest.raises(ShapeError):
        f((1, 2), {"k": 3}, {"k": (4, 5, 6)})


def test_pytree_of_modules_keeps_them_whole(getkey):
    @checked
    def f(layers: PyTree[typedeqx.nn.Linear]):
        return layers

    f([typedeqx.nn.Linear(2, 2, key=getkey())])
    f([typedeqx.nn.Identity()])  # a module without leaves is an empty tree
    with pytest.raises(ShapeError, match=r"at \[1\]"):
        f([typedeqx.nn.Linear(2, 2, key=getkey()), ones(2)])


def test_containers():
    @checked
    def f(
        a: tuple[Float[Array, " n"], Float[Array, " n"]],
        b: list[Float[Array, " n"]],
        c: dict[str, Float[Array, " n"]],
        d: Sequence[int],
    ):
        return a

    f((ones(2), ones(2)), [ones(2)], {"k": ones(2)}, [1, 2])
    with pytest.raises(ShapeError, match=r"at \[1\]"):
        f((ones(2), ones(3)), [], {}, [])
    with pytest.raises(ShapeError, match="length 3, expected 2"):
        f((ones(2), ones(2), ones(2)), [], {}, [])
    with pytest.raises(ShapeError, match=r"at \['k'\]"):
        f((ones(2), ones(2)), [], {"k": ones(3)}, [])
    with pytest.raises(ShapeError):
        f((ones(2), ones(2)), [], {}, ["x"])


def test_non_array_values_checked_by_type():
    @checked
    def f(n: int, name: str, mode: Literal["a", "b"], fn: Callable[[int], int]):
        return n

    f(1, "x", "a", abs)
    with pytest.raises(ShapeError, match="argument n is '1', expected int"):
        f("1", "x", "a", abs)
    with pytest.raises(ShapeError, match="Literal"):
        f(1, "x", "c", abs)
    with pytest.raises(ShapeError, match="not callable"):
        f(1, "x", "a", 3)


def test_typevar_and_other_hints_go_to_beartype():
    _T = TypeVar("_T", bound=int)

    @checked
    def f(x: _T, kind: type[int], s: set[int]) -> _T:
        return x

    f(1, bool, {1})
    with pytest.raises(ShapeError, match="argument kind"):
        f(1, str, {1})
    with pytest.raises(ShapeError, match="argument s"):
        f(1, int, {"a"})


def test_any_and_unannotated_are_not_checked():
    @checked
    def f(x: Any, y, z: object) -> Any:
        return x

    assert f("a", "b", "c") == "a"


def test_var_args_and_kwargs():
    @checked
    def f(*xs: Float[Array, " n"], **kws: Float[Array, " n"]):
        return xs

    f(ones(2), ones(2), a=ones(2))
    with pytest.raises(ShapeError, match=r"argument xs is f32\[3\] at \[1\]"):
        f(ones(2), ones(3))
    with pytest.raises(ShapeError, match=r"argument kws is f32\[3\] at \['a'\]"):
        f(ones(2), a=ones(3))


def test_keyword_and_default_arguments():
    @checked
    def f(x: Float[Array, " n"], y: Float[Array, " n"] | None = None, *, z: int = 0):
        return x

    f(ones(2))
    f(ones(2), y=ones(2))
    f(x=ones(2), y=ones(2), z=3)
    with pytest.raises(ShapeError, match="argument y"):
        f(x=ones(2), y=ones(3))
    with pytest.raises(ShapeError, match="argument z"):
        f(ones(2), z="3")


def test_memo_gives_the_same_verdicts_as_a_fresh_check():
    @checked
    def f(x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, " n"]:
        return y

    for _ in range(3):
        f(ones(2), ones(2))
        with pytest.raises(ShapeError):
            f(ones(2), ones(3))
        f(ones(3), ones(3))


def test_weak_typed_and_strong_values_both_pass():
    @checked
    def f(x: Float[Array, ""]):
        return x

    f(jnp.asarray(1.0))
    f(jnp.float32(1.0))
    f(jax.numpy.array(1.0, dtype=jnp.float32))
