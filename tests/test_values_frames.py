"""Value checks (`typedeqx.checks(values=True)`): the first NaN or infinity is named
by module path, forward and backward, eagerly and under jit, vmap, scan and grad;
with value checks off the program is unchanged."""

import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx


@eqx.checked
class Block(eqx.Module):
    lin: eqx.nn.Linear
    kind: str = eqx.field(static=True)

    def __call__(
        self, x: Float[Array, " n"], t: Float[Array, ""]
    ) -> Float[Array, " n"]:
        h = self.lin(x)
        if self.kind == "divide":
            return h / t  # t becomes zero
        if self.kind == "xlogx":  # finite forward; NaN gradient where h < 0
            return jnp.where(h > 0, h * jnp.log(h), 0.0)
        return h


@eqx.checked
class Net(eqx.Module):
    blocks: list[Block]

    def __call__(
        self, x: Float[Array, " n"], t: Float[Array, ""]
    ) -> Float[Array, " n"]:
        for block in self.blocks:
            x = block(x, t)
        return x


def _net(kind: str) -> Net:
    def block(i: int, key: jax.Array) -> Block:
        lin = eqx.nn.Linear(4, 4, key=key)
        lin = eqx.tree_at(lambda m: (m.weight, m.bias), lin, (jnp.eye(4), jnp.zeros(4)))
        return Block(lin, kind if i == 3 else "plain")

    return Net(
        [block(i, k) for i, k in enumerate(jax.random.split(jax.random.PRNGKey(0), 6))]
    )


FORWARD = (
    "A NaN or infinity first appeared in the output of `Net.blocks[3]` (forward "
    "pass): 4 of 4 elements are NaN or infinite (f32[4]). Its array arguments were "
    "finite, so it arose in `Net.blocks[3]`'s own computation or parameters."
)
BACKWARD = (
    "The gradient first became non-finite in `Net.blocks[3]`'s own code (backward "
    "pass), w.r.t. the output of its call to `Net.blocks[3].lin`: 1 of 4 elements "
    "are NaN or infinite (f32[4]) in the cotangent."
)
X = jnp.arange(1.0, 5.0)
X_BAD = X.at[1].set(-2.0)


def _exact(message: str) -> str:
    # JAX may append its note about filtered traceback frames.
    return "^" + re.escape(message)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_forward_names_block_3(jit):
    net = _net("divide")
    f = eqx.filter_jit(net) if jit else net
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError, match=_exact(FORWARD)):
            f(X, jnp.array(0.0))
        assert jnp.all(jnp.isfinite(f(X, jnp.array(2.0))))


def test_forward_vmap_names_batch_index():
    net = _net("divide")
    f = eqx.filter_jit(eqx.filter_vmap(net))
    xs, ts = jnp.stack([X, X, X]), jnp.array([1.0, 0.0, 2.0])
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            f(xs, ts)
    assert str(info.value) == (
        FORWARD + "\nBatch index (1,) had error (vmap axes outermost first)."
    )


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_forward_scan_names_step(jit):
    net = _net("divide")

    def run(x):
        def step(carry, t):
            return net(carry, t) * 0.5, None

        return jax.lax.scan(step, x, jnp.array([3.0, 2.0, 1.0, 0.0, -1.0]))[0]

    f = eqx.filter_jit(run) if jit else run
    expected = FORWARD + "\nAt lax.scan step 3 (outermost loop first)."
    with eqx.checks(values=True):
        if not jit:  # a bare lax.scan compiles: JAX's error carries the message
            with pytest.raises(jax.errors.JaxRuntimeError, match=re.escape(expected)):
                f(X)
            return
        with pytest.raises(eqx.ValueCheckError) as info:
            f(X)
    assert str(info.value) == expected


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_forward_under_grad(jit):
    # The forward check runs, before the backward pass, even though `grad` does
    # not need the forward output.
    net = _net("divide")
    grad = eqx.filter_grad(lambda m, x: jnp.sum(m(x, jnp.array(0.0))))
    f = eqx.filter_jit(grad) if jit else grad
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError, match=_exact(FORWARD)):
            f(net, X)


def test_forward_under_vmap_of_grad():
    net = _net("divide")
    grad = eqx.filter_grad(lambda m, x, t: jnp.sum(m(x, t)))
    f = eqx.filter_jit(eqx.filter_vmap(grad, in_axes=(None, 0, 0)))
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            f(net, jnp.stack([X, X]), jnp.array([1.0, 0.0]))
    assert str(info.value) == (
        FORWARD + "\nBatch index (1,) had error (vmap axes outermost first)."
    )


def _loss(model, x):
    return jnp.sum(model(x, jnp.array(1.0)) ** 2)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_backward_names_block_3(jit):
    net = _net("xlogx")
    grad = eqx.filter_grad(_loss)
    f = eqx.filter_jit(grad) if jit else grad
    assert jnp.isfinite(_loss(net, X_BAD))  # the forward pass is finite
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError, match=_exact(BACKWARD)):
            f(net, X_BAD)
        f(net, X)  # finite gradient: no error


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_backward_vmap_names_batch_index(jit):
    net = _net("xlogx")
    f = eqx.filter_vmap(eqx.filter_grad(_loss), in_axes=(None, 0))
    f = eqx.filter_jit(f) if jit else f
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError) as info:
            f(net, jnp.stack([X, X_BAD]))
    assert str(info.value) == (
        BACKWARD + "\nBatch index (1,) had error (vmap axes outermost first)."
    )


def test_values_off_is_the_same_program():
    net = _net("divide")
    t = jnp.array(1.0)

    def text():
        return str(jax.make_jaxpr(eqx.filter_grad(lambda m: jnp.sum(m(X, t))))(net))

    today = text()
    with eqx.checks(values=True):
        with eqx.checks(values=False):
            off = text()
        on = text()
    assert off == today
    assert on != today


def test_switch():
    with pytest.raises(ValueError, match="need checks on"):
        with eqx.checks(False, values=True):
            pass
    net = _net("divide")
    with eqx.checks(values=True):
        with eqx.checks(True):  # keeps value checks on
            with pytest.raises(eqx.ValueCheckError):
                net(X, jnp.array(0.0))
        with eqx.checks(False):  # everything off
            net(X, jnp.array(0.0))


def test_error_is_a_runtime_error():
    assert issubclass(eqx.ValueCheckError, RuntimeError)
    assert eqx.ValueCheckError.__module__ == "typedeqx"


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_backward_scan_names_step(jit):
    net = _net("xlogx")

    def run(model, xs):
        def step(total, x):
            return total + jnp.sum(model(x, jnp.array(1.0)) ** 2), None

        return jax.lax.scan(step, jnp.array(0.0), xs)[0]

    grad = eqx.filter_grad(run)
    f = eqx.filter_jit(grad) if jit else grad
    xs = jnp.stack([X, X, X_BAD, X])
    expected = BACKWARD + "\nAt lax.scan step 2 (outermost loop first)."
    with eqx.checks(values=True):
        if not jit:  # a bare lax.scan compiles: JAX's error carries the message
            with pytest.raises(jax.errors.JaxRuntimeError, match=re.escape(expected)):
                f(net, xs)
            return
        with pytest.raises(eqx.ValueCheckError) as info:
            f(net, xs)
        assert str(info.value) == expected
        f(net, jnp.stack([X, X]))  # finite: no error, and the counts restart


def test_nested_scan_and_vmap_steps():
    net = _net("divide")

    def inner(x, ts):
        def step(c, t):
            return net(c, t) * 0.5, None

        return jax.lax.scan(step, x, ts)[0]

    def outer(x, tss):
        def step(c, ts):
            return inner(c, ts), None

        return jax.lax.scan(step, x, tss)[0]

    tss = jnp.ones((3, 4)).at[2, 1].set(0.0)
    f = eqx.filter_jit(eqx.filter_vmap(outer, in_axes=(0, None)))
    with eqx.checks(values=True):
        f(jnp.stack([X, X]), jnp.ones((3, 4)))  # warm: counts must restart
        with pytest.raises(eqx.ValueCheckError) as info:
            f(jnp.stack([X, X]), tss)
    assert str(info.value) == FORWARD + (
        "\nBatch index (0,) had error (vmap axes outermost first). "
        "At lax.scan step 2, 1 (outermost loop first)."
    )


def test_environment_turns_value_checks_on():
    code = (
        "import jax.numpy as jnp, typedeqx as eqx\n"
        "from typedeqx._contracts import VALUES, checks_enabled\n"
        "assert checks_enabled() is VALUES\n"
        "try:\n"
        "    eqx.nn.Embedding(3, 2, key=__import__('jax').random.PRNGKey(0))(5)\n"
        "except eqx.ValueCheckError as e:\n"
        "    print('raised', e.path)\n"
        "with eqx.checks(False):\n"
        "    assert not checks_enabled()\n"
    )
    env = {**os.environ, "TYPEDEQX_CHECKS": "values", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "raised Embedding"


def test_bfloat16_outputs_are_checked():
    lin = eqx.nn.Linear(4, 4, key=jax.random.PRNGKey(0), dtype=jnp.bfloat16)
    x = jnp.full(4, jnp.inf, jnp.bfloat16)
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError, match=re.escape("(bf16[4])")):
            eqx.filter_jit(lin)(x)
