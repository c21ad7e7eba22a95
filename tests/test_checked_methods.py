"""Method contracts: `self`'s fields bind dimensions, then arguments, then the return
value; all annotated methods; subclasses; thread safety of the bindings."""

import inspect
import threading
from typing import Self

import jax.numpy as jnp
import jax.tree_util as jtu
import pytest
from jaxtyping import Array, Float

from helpers import ones
from typedeqx import Module, ShapeError, checked, field


@checked
class Linear(Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]

    def __call__(
        self, x: Float[Array, " in_features"]
    ) -> Float[Array, " out_features"]:
        """Affine map."""
        return self.weight @ x + self.bias

    def project(
        self, x: Float[Array, "batch in_features"]
    ) -> Float[Array, "batch out_features"]:
        return x @ self.weight.T

    def broken(self, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
        return x

    def unannotated(self, x):
        return x


def test_call_argument_shares_dimensions_with_fields():
    lin = Linear(ones(4, 3), ones(4))
    assert lin(ones(3)).shape == (4,)
    with pytest.raises(ShapeError, match="argument x is f32\\[5\\]"):
        lin(ones(5))


def test_return_value_is_checked():
    lin = Linear(ones(4, 3), ones(4))
    with pytest.raises(ShapeError, match="Linear.broken: return value is f32\\[3\\]"):
        lin.broken(ones(3))


def test_other_annotated_methods_are_checked():
    lin = Linear(ones(4, 3), ones(4))
    assert lin.project(ones(7, 3)).shape == (7, 4)
    with pytest.raises(ShapeError, match="Linear.project: argument x"):
        lin.project(ones(7, 2))


def test_unannotated_methods_are_not_wrapped():
    assert not hasattr(Linear.unannotated, "__typedeqx_checked__")
    assert Linear.__call__.__typedeqx_checked__
    lin = Linear(ones(4, 3), ones(4))
    assert lin.unannotated("anything") == "anything"


def test_wrapper_keeps_metadata():
    assert Linear.__call__.__name__ == "__call__"
    assert Linear.__call__.__doc__ == "Affine map."
    assert list(inspect.signature(Linear.__call__).parameters) == ["self", "x"]


def test_unbound_call_and_bound_method_pytree():
    lin = Linear(ones(4, 3), ones(4))
    with pytest.raises(ShapeError):
        Linear.__call__(lin, ones(2))
    assert len(jtu.tree_leaves(lin.__call__)) == 2


def test_fields_are_rechecked_at_call_time():
    # Modules changed without __init__ (tree_map, tree_at) are checked when called.
    lin = Linear(ones(4, 3), ones(4))
    bad = jtu.tree_map(lambda a: a[:2] if a.ndim == 1 else a, lin)
    with pytest.raises(ShapeError, match="Linear.__call__: field bias is f32\\[2\\]"):
        bad(ones(3))


def test_static_int_field_binds_for_methods():
    @checked
    class Embed(Module):
        table: Float[Array, "vocab dim"]
        dim: int = field(static=True)

        def __call__(self, h: Float[Array, " dim"]) -> Float[Array, " vocab"]:
            return self.table @ h

    embed = Embed(ones(10, 4), 4)
    embed(ones(4))
    with pytest.raises(ShapeError, match="dim=4"):
        embed(ones(3))


def test_keyword_arguments_and_defaults():
    @checked
    class M(Module):
        w: Float[Array, " n"]

        def __call__(self, x: Float[Array, " n"], *, scale: float = 1.0, key=None):
            return self.w * x * scale

    m = M(ones(3))
    m(ones(3), key="ignored")
    m(x=ones(3), scale=2.0)
    with pytest.raises(ShapeError, match="argument scale"):
        m(ones(3), scale="2")
    with pytest.raises(ShapeError, match="argument x"):
        m(x=ones(2))


def test_self_return_annotation():
    @checked
    class M(Module):
        w: Float[Array, " n"]

        def doubled(self) -> Self:
            return M(self.w * 2)

        def wrong(self) -> Self:
            return 3

    M(ones(2)).doubled()
    with pytest.raises(ShapeError, match="return value is 3, expected Self"):
        M(ones(2)).wrong()


def test_decorated_subclass_methods_and_overrides_are_checked():
    @checked
    class Scaled(Linear):
        scale: Float[Array, " out_features"]

        def __call__(
            self, x: Float[Array, " in_features"]
        ) -> Float[Array, " out_features"]:
            return self.scale * (self.weight @ x)

        def extra(self, y: Float[Array, " out_features"]) -> Float[Array, ""]:
            return jnp.sum(y)

    s = Scaled(ones(4, 3), ones(4), ones(4))
    s(ones(3))
    with pytest.raises(ShapeError, match="Scaled.__call__"):
        s(ones(4))
    with pytest.raises(ShapeError, match="Scaled.extra: argument y"):
        s.extra(ones(3))
    with pytest.raises(ShapeError, match="Scaled.project"):
        s.project(ones(2, 4))


def test_inherited_method_sees_subclass_fields():
    class Scaled(Linear):
        scale: Float[Array, " out_features"]

    s = Scaled(ones(4, 3), ones(4), ones(4))
    bad = jtu.tree_map(lambda a: a[:2] if a.shape == (4,) else a, s)
    with pytest.raises(ShapeError, match="Scaled.project: field bias"):
        bad.project(ones(1, 3))


def test_methods_inherited_from_an_unchecked_base():
    class Base(Module):
        w: Float[Array, " n"]

        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            return self.w * x

    @checked
    class Child(Base):
        pass

    with pytest.raises(ShapeError, match="Child.__call__"):
        Child(ones(3))(ones(2))
    Base(ones(3))(ones(1))  # the base itself stays unchecked (and broadcasts)


def test_checked_is_idempotent():
    again = checked(Linear)
    assert again is Linear
    assert not hasattr(Linear.__call__.__wrapped__, "__typedeqx_checked__")


def test_checked_rejects_other_things():
    class NotAModule:
        pass

    with pytest.raises(ValueError, match="Module subclasses and functions"):
        checked(NotAModule)
    with pytest.raises(ValueError, match="Module subclasses and functions"):
        checked(3)


def test_bindings_are_per_call_across_threads():
    @checked
    class Pair(Module):
        a: Float[Array, " n"]

        def __call__(self, b: Float[Array, " n"]) -> Float[Array, " n"]:
            return self.a + b

    sizes = list(range(1, 9))
    modules = {n: Pair(ones(n)) for n in sizes}
    errors: list[BaseException] = []
    start = threading.Barrier(len(sizes))

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(200):
                # alternate fresh shapes (memo misses) with seen ones
                assert modules[n](ones(n)).shape == (n,)
                try:
                    modules[n](ones(n + 1 + i % 3))
                except ShapeError as e:
                    assert e.bindings == {"n": n}
                else:
                    raise AssertionError("mismatch not caught")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in sizes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
