"""Value checks name an unchecked module (a user's plain `Module` subclass, no
`@checked`) called inside a checked parent by its own path, forward and backward,
eagerly and under jit, vmap, scan and grad; with value checks off nothing of it
runs and the program is unchanged."""

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedeqx as eqx


class PlainBlock(eqx.Module):  # not checked
    lin: eqx.nn.Linear
    kind: str = eqx.field(static=True)

    def __call__(self, x, t):
        h = self.lin(x)
        if self.kind == "divide":
            return h / t  # t becomes zero
        if self.kind == "xlogx":  # finite forward; NaN gradient where h < 0
            return jnp.where(h > 0, h * jnp.log(h), 0.0)
        return h

    def encode(self, x):
        return jnp.log(self.lin(x))


@eqx.checked
class Block(eqx.Module):
    lin: eqx.nn.Linear

    def __call__(
        self, x: Float[Array, " n"], t: Float[Array, ""]
    ) -> Float[Array, " n"]:
        return self.lin(x)


@eqx.checked
class Net(eqx.Module):
    blocks: list[Block | PlainBlock]

    def __call__(
        self, x: Float[Array, " n"], t: Float[Array, ""]
    ) -> Float[Array, " n"]:
        for block in self.blocks:
            x = block(x, t)
        return x

    def encode(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        block = self.blocks[3]
        assert isinstance(block, PlainBlock)
        return block.encode(x)


def _net(kind: str) -> Net:
    def block(i: int, key: jax.Array) -> Block | PlainBlock:
        lin = eqx.nn.Linear(4, 4, key=key)
        lin = eqx.tree_at(lambda m: (m.weight, m.bias), lin, (jnp.eye(4), jnp.zeros(4)))
        return PlainBlock(lin, kind) if i == 3 else Block(lin)

    keys = jax.random.split(jax.random.PRNGKey(0), 6)
    return Net([block(i, k) for i, k in enumerate(keys)])


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
BATCH_1 = "\nBatch index (1,) had error (vmap axes outermost first)."
X = jnp.arange(1.0, 5.0)
X_BAD = X.at[1].set(-2.0)


def _raised(f, *args) -> eqx.ValueCheckError:
    with pytest.raises(eqx.ValueCheckError) as info:
        f(*args)
    return info.value


def _text(error: Exception) -> str:
    # Without the note JAX may append about filtered traceback frames.
    return str(error).split("\n" + "-" * 20 + "\n")[0]


def _loss(model, x):
    return jnp.sum(model(x, jnp.array(1.0)) ** 2)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_forward_names_unchecked_block_3(jit):
    net = _net("divide")
    f = eqx.filter_jit(net) if jit else net
    with eqx.checks(values=True):
        error = _raised(f, X, jnp.array(0.0))
        assert (_text(error), error.path) == (FORWARD, "Net.blocks[3]")
        assert jnp.all(jnp.isfinite(f(X, jnp.array(2.0))))


def test_forward_vmap_names_batch_index():
    net = _net("divide")
    f = eqx.filter_jit(eqx.filter_vmap(net))
    with eqx.checks(values=True):
        error = _raised(f, jnp.stack([X, X, X]), jnp.array([1.0, 0.0, 2.0]))
    assert _text(error) == FORWARD + BATCH_1


def test_forward_scan_names_step():
    net = _net("divide")

    def run(x):
        def step(carry, t):
            return net(carry, t) * 0.5, None

        return jax.lax.scan(step, x, jnp.array([3.0, 2.0, 1.0, 0.0, -1.0]))[0]

    with eqx.checks(values=True):
        error = _raised(eqx.filter_jit(run), X)
    assert _text(error) == FORWARD + "\nAt lax.scan step 3 (outermost loop first)."


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_forward_under_grad(jit):
    net = _net("divide")
    grad = eqx.filter_grad(lambda m, x: jnp.sum(m(x, jnp.array(0.0))))
    f = eqx.filter_jit(grad) if jit else grad
    with eqx.checks(values=True):
        assert _text(_raised(f, net, X)) == FORWARD


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_backward_names_unchecked_block_3(jit):
    net = _net("xlogx")
    grad = eqx.filter_grad(_loss)
    f = eqx.filter_jit(grad) if jit else grad
    assert jnp.isfinite(_loss(net, X_BAD))  # the forward pass is finite
    with eqx.checks(values=True):
        error = _raised(f, net, X_BAD)
        assert (_text(error), error.path) == (BACKWARD, "Net.blocks[3]")
        f(net, X)  # finite gradient: no error


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_backward_vmap_names_batch_index(jit):
    net = _net("xlogx")
    f = eqx.filter_vmap(eqx.filter_grad(_loss), in_axes=(None, 0))
    f = eqx.filter_jit(f) if jit else f
    with eqx.checks(values=True):
        error = _raised(f, net, jnp.stack([X, X_BAD]))
    assert _text(error) == BACKWARD + BATCH_1


def test_backward_scan_names_step():
    net = _net("xlogx")

    def run(model, xs):
        def step(total, x):
            return total + jnp.sum(model(x, jnp.array(1.0)) ** 2), None

        return jax.lax.scan(step, jnp.array(0.0), xs)[0]

    f = eqx.filter_jit(eqx.filter_grad(run))
    with eqx.checks(values=True):
        error = _raised(f, net, jnp.stack([X, X, X_BAD, X]))
    assert _text(error) == (BACKWARD + "\nAt lax.scan step 2 (outermost loop first).")


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_public_method_is_named(jit):
    net = _net("plain")
    f = eqx.filter_jit(net.encode) if jit else net.encode
    with eqx.checks(values=True):
        error = _raised(f, X.at[2].set(-1.0))
    assert _text(error) == (
        "A NaN or infinity first appeared in the output of "
        "`Net.blocks[3].encode` (forward pass): 1 of 4 elements are NaN or infinite "
        "(f32[4]). Its array arguments were finite, so it arose in "
        "`Net.blocks[3].encode`'s own computation or parameters."
    )


def test_classes_are_restored():
    net = _net("divide")
    call, encode = PlainBlock.__dict__["__call__"], PlainBlock.__dict__["encode"]
    with eqx.checks(values=True):
        with pytest.raises(eqx.ValueCheckError):
            net(X, jnp.array(0.0))
        net(X, jnp.array(1.0))
    assert PlainBlock.__dict__["__call__"] is call
    assert PlainBlock.__dict__["encode"] is encode


def test_unchecked_outside_a_checked_call_is_not_checked():
    block = _net("divide").blocks[3]
    with eqx.checks(values=True):
        assert not jnp.any(jnp.isfinite(block(X, jnp.array(0.0))))


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
    with eqx.checks(values=False):
        net(X, jnp.array(0.0))  # no value checks: the NaN passes, as in Equinox


def test_summary_with_value_checks_records_unchecked_block_once():
    net = _net("plain")
    call = PlainBlock.__dict__["__call__"]
    with eqx.checks(values=True):
        table = eqx.summary(net, X, jnp.array(1.0))
    paths = [row.path for row in table.rows]
    assert paths.count("Net.blocks[3]") == 1
    assert PlainBlock.__dict__["__call__"] is call
