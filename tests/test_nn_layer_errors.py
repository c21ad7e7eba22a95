"""Runtime errors raised by layers name the layer's full path and the fix, and are
the built-in types Equinox raises: BatchNorm outside its named batch axis (Equinox:
JAX's "unbound axis name ... call psum under shard_map"). Dropout's missing key is
in test_nn_dropout.py."""

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx


class Net(eqx.Module):
    lin: eqx.nn.Linear
    bn: eqx.nn.BatchNorm

    def __init__(self, key, axis_name="batch"):
        self.lin = eqx.nn.Linear(3, 4, key=key)
        self.bn = eqx.nn.BatchNorm(4, axis_name, mode="batch")

    def __call__(self, x, state):
        return self.bn(self.lin(x), state)


def unbound(where, callee, axis='"batch"', form=None):
    form = form or (
        f"`jax.vmap(model, axis_name={axis}, in_axes=(0, None), "
        "out_axes=(0, None))(x, state)`"
    )
    return (
        f"{where} (BatchNorm.__call__): the batch axis {axis} is not bound: BatchNorm "
        f"averages its statistics over the batch axis named by its axis_name={axis}, "
        "and no enclosing jax.vmap or jax.pmap has that axis_name.\n"
        f"  hint: call the {callee} under a vmap that names the axis: {form}; or, "
        "for evaluation, use the running statistics, which need no batch axis: "
        "`model = eqx.nn.inference_mode(model)`."
    )


UNMAPPED = dict(in_axes=(0, None), out_axes=(0, None))
CALLS = {
    "eager-no-vmap": lambda m, x, s: m(x[0], s),
    "vmap-without-axis-name": lambda m, x, s: jax.vmap(m, **UNMAPPED)(x, s),
    "filter_vmap-without-axis-name": lambda m, x, s: eqx.filter_vmap(m, **UNMAPPED)(
        x, s
    ),
    "filter_jit-vmap-other-name": lambda m, x, s: eqx.filter_jit(
        jax.vmap(m, axis_name="batches", **UNMAPPED)
    )(x, s),
    "scan-over-steps": lambda m, x, s: jax.lax.scan(
        lambda s, xs: jax.vmap(m, **UNMAPPED)(xs, s)[::-1], s, x[None]
    ),
}


@pytest.mark.parametrize("call", CALLS)
def test_batch_norm_without_its_axis_name(call):
    model, state = eqx.nn.make_with_state(Net)(jr.key(0))
    with pytest.raises(NameError) as info:
        CALLS[call](model, jnp.ones((5, 3)), state)
    assert type(info.value).__name__ == "UnboundAxisError"
    assert str(info.value) == unbound("Net.bn", "Net")


def test_the_layer_alone_is_the_callee():
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="ema")
    with pytest.raises(NameError) as info:
        jax.vmap(bn, **UNMAPPED)(jnp.ones((2, 3)), state)
    assert str(info.value) == unbound("BatchNorm", "BatchNorm").replace(
        "BatchNorm (BatchNorm.__call__)", "BatchNorm.__call__"
    )


def test_a_callee_of_another_signature_gets_the_general_form():
    class Model(eqx.Module):
        net: Net

        def __call__(self, x, state, scale):
            return self.net(x * scale, state)

    model, state = eqx.nn.make_with_state(Model)(Net(jr.key(0), axis_name="b"))
    with pytest.raises(NameError) as info:
        jax.vmap(model, in_axes=(0, None, None))(jnp.ones((2, 3)), state, 2.0)
    form = (
        '`jax.vmap(model, axis_name="b", ...)`, with in_axes None for the State and '
        "out_axes None for the State it returns"
    )
    assert str(info.value) == unbound("Model.net.bn", "Model", '"b"', form)


def test_several_axis_names():
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(
        3, ("data", "batch"), mode="batch"
    )
    with pytest.raises(NameError) as info:
        jax.vmap(bn, axis_name="batch", **UNMAPPED)(jnp.ones((2, 3)), state)
    assert str(info.value) == (
        'BatchNorm.__call__: the batch axes "data", "batch" are not all bound: '
        "BatchNorm averages its statistics over the axes named by its axis_name, and "
        "the enclosing vmaps and pmaps do not name each of them.\n"
        "  hint: call the BatchNorm under one vmap or pmap per name, each with "
        "axis_name= one of them and in_axes None for the State; or, for evaluation, "
        "use the running statistics, which need no batch axis: "
        "`model = eqx.nn.inference_mode(model)`."
    )


def test_the_hint_runs():
    # The suggested call, applied to the same model, works.
    model, state = eqx.nn.make_with_state(Net)(jr.key(0))
    x = jnp.ones((5, 3))
    fixed = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    y, state = fixed(x, state)
    assert y.shape == (5, 4)
    y, _ = eqx.nn.inference_mode(model)(x[0], state)
    assert y.shape == (4,)


class Block(eqx.Module):
    lin: eqx.nn.Linear
    drop: eqx.nn.Dropout

    def __init__(self, key):
        self.lin = eqx.nn.Linear(3, 3, key=key)
        self.drop = eqx.nn.Dropout(0.5)

    def __call__(self, x):
        return self.drop(self.lin(x))


class Stack(eqx.Module):
    blocks: Block

    def __init__(self, key):
        self.blocks = eqx.filter_vmap(Block)(jr.split(key, 4))

    def __call__(self, x):
        params, static = eqx.partition(self.blocks, eqx.is_array)
        step = lambda x, p: (eqx.combine(p, static)(x), None)  # noqa: E731
        return jax.lax.scan(step, x, params)[0]


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "filter_jit"])
def test_dropout_without_a_key_in_a_scanned_stack(jit):
    model = Stack(jr.key(0))
    call = eqx.filter_jit(model) if jit else model
    with pytest.raises(RuntimeError) as info:
        call(jnp.ones(3))
    assert str(info.value) == (
        "Stack.blocks[*].drop (Dropout.__call__, scanned over 4): Dropout requires a "
        "key when running in non-deterministic mode: key is None and inference is "
        "False, and dropout draws a random mask.\n"
        "  hint: pass one, e.g. `model(x, key=jax.random.key(0))` (split a fresh key "
        "for each step), or switch dropout off for evaluation with "
        "`model = eqx.nn.inference_mode(model)`."
    )
