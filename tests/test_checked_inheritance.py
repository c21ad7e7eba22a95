"""Checking is opt-in per class: a subclass the user did not decorate keeps the
contracts it inherits (the checked base's fields, inherited checked methods) and
nothing of its own; and in a decorated class `x: T = None` reads as `T | None`."""

import re

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx
from typedeqx import ShapeError

eqx_ref = pytest.importorskip("equinox")


def _state_sequential(lib):
    """The subclass Equinox users write to thread state through a Sequential."""

    class StateSequential(lib.nn.Sequential):
        def __call__(self, x, state: lib.nn.State = None, *, key=None):
            for layer in self.layers:
                if isinstance(layer, lib.nn.StatefulLayer) and layer.is_stateful():
                    x, state = layer(x, state=state)
                else:
                    x = layer(x)
            return x, state

    return StateSequential


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "filter_jit"])
def test_a_state_sequential_subclass_runs_as_in_equinox(jit):
    results = []
    for lib in (eqx, eqx_ref):
        StateSequential = _state_sequential(lib)
        key1, key2 = jr.split(jr.PRNGKey(0))
        model, state = lib.nn.make_with_state(StateSequential)(
            [
                lib.nn.Linear(3, 4, key=key1),
                lib.nn.BatchNorm(4, axis_name="batch", mode="batch"),
                lib.nn.Linear(4, 2, key=key2),
            ]
        )
        run = lib.filter_vmap(
            lambda m, x, s: m(x, s),
            in_axes=(None, 0, None),
            out_axes=(0, None),
            axis_name="batch",
        )
        if jit:
            run = lib.filter_jit(run)
        x = jr.normal(jr.PRNGKey(1), (5, 3))
        out, state = run(model, x, state)
        # The state default, passed explicitly (the annotation says `State`).
        plain = StateSequential([lib.nn.Linear(3, 2, key=key1)])
        none_out, none_state = plain(x[0], None)
        results.append((out, none_out, none_state))
    (ours, our_plain, our_none), (theirs, their_plain, their_none) = results
    assert jnp.array_equal(ours, theirs)
    assert jnp.array_equal(our_plain, their_plain)
    assert our_none is None and their_none is None


@eqx.checked
class Affine(eqx.Module):
    weight: Float[Array, "out inp"]
    bias: Float[Array, " out"]

    def __call__(self, x: Float[Array, " inp"]) -> Float[Array, " out"]:
        return self.weight @ x + self.bias


class Wrapped(Affine):  # not decorated
    note: Float[Array, "9 9"]  # its own annotation: not a contract

    def __call__(self, x: Float[Array, "1 1"]) -> Float[Array, "2 2"]:
        return super().__call__(x)

    def scaled(self, x: Float[Array, "7"]) -> Float[Array, "7"]:
        return 2 * Affine.__call__(self, x)


def test_an_undecorated_subclass_keeps_only_inherited_contracts():
    w = Wrapped(jnp.ones((2, 3)), jnp.ones(2), jnp.ones(1))  # `note` unchecked
    assert w(jnp.ones(3)).shape == (2,)  # its own annotations are not enforced
    assert w.scaled(jnp.ones(3)).shape == (2,)
    with pytest.raises(ShapeError, match=r"Wrapped\.__init__: field bias"):
        Wrapped(jnp.ones((2, 3)), jnp.ones(3), jnp.ones(1))  # inherited field contract
    with pytest.raises(ShapeError, match=r"Wrapped\.__call__: argument x is f32\[4\]"):
        w(jnp.ones(4))  # the inherited `Affine.__call__`, reached through super()


def test_decorating_the_subclass_opts_it_in():
    @eqx.checked
    class Strict(Wrapped):
        pass

    s = Strict(jnp.ones((2, 3)), jnp.ones(2), jnp.ones((9, 9)))
    with pytest.raises(ShapeError, match=r"Strict\.__init__: field note"):
        Strict(jnp.ones((2, 3)), jnp.ones(2), jnp.ones(1))
    # Methods inherited from the undecorated class are adopted by the decorated one.
    with pytest.raises(ShapeError, match=r"Strict\.scaled: argument x is f32\[3\]"):
        s.scaled(jnp.ones(3))


@eqx.checked
class Masked(eqx.Module):
    weight: Float[Array, " n"]

    def __call__(
        self, x: Float[Array, " n"], mask: Float[Array, " n"] = None
    ) -> Float[Array, " n"]:
        return self.weight * x if mask is None else self.weight * x * mask


CALLS = {
    "eager": lambda m, *a: m(*a),
    "filter_jit": lambda m, *a: eqx.filter_jit(m)(*a),
    "filter_vmap": lambda m, *a: eqx.filter_vmap(
        lambda x, *rest: m(x, *rest), in_axes=(0,) + (None,) * (len(a) - 1)
    )(jnp.stack([a[0], a[0]]), *a[1:])[0],
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_none_default_reads_as_optional(call):
    m = Masked(jnp.ones(3))
    assert call(m, jnp.ones(3)).shape == (3,)
    assert call(m, jnp.ones(3), None).shape == (3,)
    assert call(m, jnp.ones(3), jnp.ones(3)).shape == (3,)
    message = (
        'Masked.__call__: argument mask is f32[4], expected Float[Array, "n"] | None '
        "with n=3 (bound by field weight f32[3])"
    )
    with pytest.raises(ShapeError, match=re.escape(message)):
        call(m, jnp.ones(3), jnp.ones(4))
    assert jax.tree_util.tree_leaves(m)[0].shape == (3,)
