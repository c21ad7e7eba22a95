"""A stateful layer's State is part of its contract: every wrong-State mistake is a
typedeqx error naming the layer's path, the entry and the fix, never an error from
inside JAX or a silently reshaped State. Each test is the buggy user program, run
under jax.vmap (eagerly), under filter_jit(filter_vmap) and through Sequential."""

import re

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import pytest

import typedeqx as eqx

equinox = pytest.importorskip("equinox")


class Net(eqx.Module):
    lin: eqx.nn.Linear
    bn: eqx.nn.BatchNorm

    def __init__(self, size, mode, key, dtype=None):
        self.lin = eqx.nn.Linear(3, size, key=key, dtype=dtype)
        self.bn = eqx.nn.BatchNorm(size, "batch", mode=mode, dtype=dtype)

    def __call__(self, x, state):
        return self.bn(self.lin(x), state)


AXES = dict(axis_name="batch", in_axes=(0, None), out_axes=(0, None))
CALLS = {
    "vmap": lambda m, x, s: jax.vmap(m, **AXES)(x, s),
    "filter_jit": lambda m, x, s: eqx.filter_jit(eqx.filter_vmap(m, **AXES))(x, s),
    # Training steps under lax.scan, each over one batch.
    "scan": lambda m, x, s: jax.lax.scan(
        lambda s, xs: jax.vmap(m, **AXES)(xs, s)[::-1], s, x[None]
    ),
}
FIX = (
    "\n  hint: pass the State made together with this model, "
    "`model, state = eqx.nn.make_with_state(Net)(...)`, or the State its previous "
    "call returned."
)
OTHER_SIZE = (
    " (it was made for another model, or for a layer of another size or dtype; a "
    "State never changes the shapes of its entries)"
)
BATCH_STATE = "a State holding batch_counter: i32[], batch_state_index: "


def make(size=4, mode="batch", dtype=None):
    return eqx.nn.make_with_state(Net)(size, mode, jr.key(0), dtype)


@pytest.mark.parametrize("call", CALLS)
def test_state_of_a_batch_norm_of_another_mode(call):
    # Equinox: a bare `KeyError: 'Net.bn.batch_counter'`.
    model, _ = make(mode="batch")
    _, ema_state = make(mode="ema")
    with pytest.raises(KeyError) as info:
        CALLS[call](model, jnp.ones((5, 3)), ema_state)
    assert isinstance(info.value, eqx.ShapeError)
    assert str(info.value) == (
        "Net.bn (BatchNorm.__call__): argument state is a State without the entry "
        f"batch_counter, expected {BATCH_STATE}(f32[4], f32[4]) (it was made for "
        "another model: it holds Net.bn.ema_first_time_index: bool[], "
        "Net.bn.ema_state_index: (f32[4], f32[4]))" + FIX
    )


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    ("layer_size", "state_size"),
    [(4, 2), (4, 1), (1, 4)],
    ids=["no-broadcast", "state-broadcasts", "layer-broadcasts"],
)
def test_state_of_a_batch_norm_of_another_size(call, layer_size, state_size):
    # Equinox: a broadcasting TypeError, a ValueError from State.set, or (1 vs 4)
    # running statistics silently mixed across channels.
    model, _ = make(size=layer_size)
    _, state = make(size=state_size)
    with pytest.raises(eqx.ShapeError) as info:
        CALLS[call](model, jnp.ones((5, 3)), state)
    got, want = f"f32[{state_size}]", f"f32[{layer_size}]"
    assert str(info.value) == (
        "Net.bn (BatchNorm.__call__): argument state is a State whose "
        f"batch_state_index is ({got}, {got}), expected {BATCH_STATE}"
        f"({want}, {want})" + OTHER_SIZE + FIX
    )


@pytest.mark.parametrize("call", CALLS)
def test_state_of_another_dtype(call):
    model, _ = make()
    _, state = make(dtype=jnp.bfloat16)
    with pytest.raises(eqx.ShapeError) as info:
        CALLS[call](model, jnp.ones((5, 3)), state)
    assert str(info.value) == (
        "Net.bn (BatchNorm.__call__): argument state is a State whose "
        f"batch_state_index is (bf16[4], bf16[4]), expected {BATCH_STATE}"
        "(f32[4], f32[4])" + OTHER_SIZE + FIX
    )


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("mode", ["ema", "batch"])
def test_input_of_another_dtype_than_the_statistics(call, mode):
    # Equinox: a lax.select dtype error (ema) or State.set's ValueError (batch),
    # naming neither the layer nor x.
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(4, "batch", mode=mode)
    model = eqx.nn.Sequential([eqx.nn.Lambda(lambda x: x.astype(jnp.bfloat16)), bn])
    with pytest.raises(eqx.ShapeError) as info:
        CALLS[call](model, jnp.ones((5, 4)), state)
    assert str(info.value) == (
        "Sequential.layers[1] (BatchNorm.__call__): argument x is bf16[4], expected "
        "f32[4] (the dtype of the layer's running statistics, float32)\n"
        "  hint: cast the input with x.astype('float32'), or build the layer with "
        "dtype=jnp.bfloat16."
    )


@pytest.mark.parametrize("call", CALLS)
def test_sequential_threads_the_state_and_the_path(call):
    seq, _ = eqx.nn.make_with_state(eqx.nn.Sequential)(
        [eqx.nn.Linear(3, 4, key=jr.key(0)), eqx.nn.BatchNorm(4, "batch", mode="ema")]
    )
    _, other = eqx.nn.make_with_state(eqx.nn.Sequential)(
        [eqx.nn.Linear(3, 4, key=jr.key(0)), eqx.nn.BatchNorm(4, "batch", mode="batch")]
    )
    with pytest.raises(KeyError) as info:
        CALLS[call](seq, jnp.ones((5, 3)), other)
    assert str(info.value) == (
        "Sequential.layers[1] (BatchNorm.__call__): argument state is a State without "
        "the entry ema_first_time_index, expected a State holding "
        "ema_first_time_index: bool[], ema_state_index: (f32[4], f32[4]) (it was made "
        "for another model: it holds Sequential.layers[1].batch_counter: i32[], "
        "Sequential.layers[1].batch_state_index: (f32[4], f32[4]))\n"
        "  hint: pass the State made together with this model, "
        "`model, state = eqx.nn.make_with_state(Sequential)(...)`, or the State its "
        "previous call returned."
    )


class SNNet(eqx.Module):
    head: eqx.nn.SpectralNorm

    def __init__(self, fan_in, fan_out, key):
        lin = eqx.nn.Linear(fan_in, fan_out, key=key)
        self.head = eqx.nn.SpectralNorm(lin, "weight", key=key)

    def __call__(self, x, state):
        return self.head(x, state)


SN_CALLS = {
    "eager": lambda m, x, s: m(x, s),
    "filter_jit": lambda m, x, s: eqx.filter_jit(m)(x, s),
    "vmap": lambda m, x, s: jax.vmap(m, in_axes=(0, None), out_axes=(0, None))(
        x[None], s
    ),
}


@pytest.mark.parametrize("call", SN_CALLS)
@pytest.mark.parametrize(
    ("other", "got"),
    [((3, 5), "(f32[5], f32[3])"), ((2, 5), "(f32[5], f32[2])")],
    ids=["set-fails", "dot-general-fails"],
)
def test_spectral_norm_given_another_layers_state(call, other, got):
    # Equinox: State.set's ValueError, or a dot_general shape error.
    model, _ = eqx.nn.make_with_state(SNNet)(3, 4, jr.key(0))
    _, state = eqx.nn.make_with_state(SNNet)(*other, jr.key(0))
    with pytest.raises(eqx.ShapeError) as info:
        SN_CALLS[call](model, jnp.ones(3), state)
    assert str(info.value) == (
        f"SNNet.head (SpectralNorm.__call__): argument state is a State whose "
        f"uv_index is {got}, expected a State holding uv_index: (f32[4], f32[3])"
        + OTHER_SIZE
        + "\n  hint: pass the State made together with this model, "
        "`model, state = eqx.nn.make_with_state(SNNet)(...)`, or the State its "
        "previous call returned."
    )


def test_a_state_made_without_make_with_state_is_checked_too():
    bn = eqx.nn.BatchNorm(3, "batch", mode="batch")
    state = eqx.nn.State(eqx.nn.BatchNorm(2, "batch", mode="batch"))
    with pytest.raises(KeyError, match=re.escape("it holds 2 other entries")):
        jax.vmap(bn, **AXES)(jnp.ones((2, 3)), state)
    # Its own State (initial values kept in the layer) passes.
    y, _ = jax.vmap(bn, **AXES)(jnp.ones((2, 3)), eqx.nn.State(bn))
    assert y.shape == (2, 3)


def test_the_right_state_still_runs_and_matches_equinox():
    model, state = make()
    theirs, eq_state = equinox.nn.make_with_state(EqNet)(4, "batch", jr.key(0))
    x = jr.normal(jr.key(1), (5, 3))
    y, state = jax.vmap(model, **AXES)(x, state)
    ey, eq_state = jax.vmap(theirs, **AXES)(x, eq_state)
    assert (y == ey).all()
    for a, b in zip(jtu.tree_leaves(state), jtu.tree_leaves(eq_state), strict=True):
        assert a.dtype == b.dtype and (a == b).all()


class EqNet(equinox.Module):
    lin: equinox.nn.Linear
    bn: equinox.nn.BatchNorm

    def __init__(self, size, mode, key):
        self.lin = equinox.nn.Linear(3, size, key=key)
        self.bn = equinox.nn.BatchNorm(size, "batch", mode=mode)

    def __call__(self, x, state):
        return self.bn(self.lin(x), state)


@pytest.mark.parametrize("mode", ["ema", "batch"])
@pytest.mark.parametrize("inference", [False, True])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_checks_add_nothing_to_the_computation(mode, inference, dtype):
    # The State and dtype checks run in Python at trace time: the traced program is
    # Equinox's, operation for operation (which also makes gradients bit-identical).
    kw = dict(mode=mode, inference=inference, dtype=dtype)
    ours, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", **kw)
    theirs, eq_state = equinox.nn.make_with_state(equinox.nn.BatchNorm)(
        3, "batch", **kw
    )
    x = jnp.ones((5, 3, 2), dtype)
    jaxpr = jax.make_jaxpr(jax.vmap(ours, **AXES))(x, state)
    eq_jaxpr = jax.make_jaxpr(jax.vmap(theirs, **AXES))(x, eq_state)
    assert str(jaxpr) == str(eq_jaxpr)
