"""Programs in the style of libraries built on Equinox, run unchanged with
`import typedeqx as eqx` and with Equinox: each is a function of the library, and the
two runs must give identical results (values and gradients, bit for bit)."""

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx

equinox = pytest.importorskip("equinox")
LIBS = (typedeqx, equinox)


def _same(results: list[Any]) -> None:
    # Tree definitions differ across the libraries (their classes and auxiliary
    # data); the paths to the leaves, and the leaves, must not.
    ours, theirs = (jax.tree_util.tree_flatten_with_path(r)[0] for r in results)
    assert [jax.tree_util.keystr(p) for p, _ in ours] == [
        jax.tree_util.keystr(p) for p, _ in theirs
    ]
    for (_, a), (_, b) in zip(ours, theirs, strict=True):
        if not isinstance(a, jax.Array):
            assert type(a) is type(b) and a == b
            continue
        assert a.dtype == b.dtype
        assert jnp.array_equal(a, b, equal_nan=True)


def _run(program: Callable[[Any], Any]) -> None:
    _same([program(lib) for lib in LIBS])


# --- a normalising flow whose base class wraps its subclasses' methods ----------


def normalising_flow(eqx: Any) -> Any:
    def with_log_det_check(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def checked(self: Any, x: Any) -> Any:
            y, log_det = method(self, x)
            assert jnp.shape(log_det) == ()
            return y, log_det

        return checked

    class AbstractBijector(eqx.Module, strict=True):
        def __init_subclass__(cls, **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            for name in ("transform_and_log_det", "inverse_and_log_det"):
                if name in cls.__dict__:
                    setattr(cls, name, with_log_det_check(cls.__dict__[name]))

    class Affine(AbstractBijector, strict=True):
        loc: jax.Array
        log_scale: jax.Array

        def transform_and_log_det(self, x):
            return x * jnp.exp(self.log_scale) + self.loc, jnp.sum(self.log_scale)

        def inverse_and_log_det(self, y):
            return (y - self.loc) * jnp.exp(-self.log_scale), -jnp.sum(self.log_scale)

    class Chain(AbstractBijector, strict=True):
        bijectors: tuple[Any, ...]

        def transform_and_log_det(self, x):
            total = jnp.zeros(())
            for b in self.bijectors:
                x, log_det = b.transform_and_log_det(x)
                total = total + log_det
            return x, total

        def inverse_and_log_det(self, y):
            total = jnp.zeros(())
            for b in reversed(self.bijectors):
                y, log_det = b.inverse_and_log_det(y)
                total = total + log_det
            return y, total

    keys = jr.split(jr.PRNGKey(0), 4)
    flow = Chain(
        tuple(
            Affine(jr.normal(k, (3,)), 0.1 * jr.normal(jr.fold_in(k, 1), (3,)))
            for k in keys
        )
    )

    def log_prob(flow, y):
        x, log_det = flow.inverse_and_log_det(y)
        base = -0.5 * jnp.sum(x**2) - 1.5 * jnp.log(2 * jnp.pi)
        return base + log_det

    ys = jr.normal(jr.PRNGKey(1), (8, 3))

    def loss(flow):
        return -jnp.mean(jax.vmap(log_prob, in_axes=(None, 0))(flow, ys))

    value, grads = eqx.filter_jit(eqx.filter_value_and_grad(loss))(flow)
    forward = eqx.filter_jit(lambda f, x: f.transform_and_log_det(x))
    bound = eqx.filter_jit(lambda f, x: f(x))  # a bound method is a PyTree
    return value, grads, forward(flow, ys[0]), bound(flow.transform_and_log_det, ys[0])


def test_normalising_flow():
    _run(normalising_flow)


# --- a strict=True hierarchy with abstract members --------------------------------


def strict_hierarchy(eqx: Any) -> Any:
    class AbstractEncoder(eqx.Module, strict=True):
        width: eqx.AbstractVar[int]

        def encode(self, x):
            return jnp.tanh(self.project(x))

        def project(self, x):
            raise NotImplementedError

    class LinearEncoder(AbstractEncoder, strict=True):
        width: int = eqx.field(static=True)
        linear: Any

        def __init__(self, in_size, width, key):
            self.width = width
            self.linear = eqx.nn.Linear(in_size, width, key=key)

        def project(self, x):
            return self.linear(x)

    class Config(eqx.Module, is_abstract=True):
        depth: int = 2

    class Concrete(Config, strict=eqx.StrictConfig()):
        pass

    encoder = LinearEncoder(3, 5, jr.PRNGKey(2))
    x = jnp.arange(3.0)
    try:
        AbstractEncoder()
        raised = None
    except TypeError:
        raised = "TypeError"
    try:
        Config()
        raised_config = None
    except TypeError:
        raised_config = "TypeError"
    grads = eqx.filter_grad(lambda e: jnp.sum(e.encode(x)))(encoder)
    return encoder.encode(x), grads, raised, raised_config, Concrete().depth


def test_strict_hierarchy():
    _run(strict_hierarchy)


# --- a Sequential subclass that threads state -------------------------------------


def stateful_training(eqx: Any) -> Any:
    class StateSequential(eqx.nn.Sequential):
        def __call__(self, x, state: eqx.nn.State = None, *, key=None):
            for layer in self.layers:
                if isinstance(layer, eqx.nn.StatefulLayer) and layer.is_stateful():
                    x, state = layer(x, state=state)
                else:
                    x = layer(x)
            return x, state

    k1, k2 = jr.split(jr.PRNGKey(3))
    model, state = eqx.nn.make_with_state(StateSequential)(
        [
            eqx.nn.Linear(4, 8, key=k1),
            eqx.nn.BatchNorm(8, axis_name="batch", mode="batch"),
            eqx.nn.Lambda(jax.nn.relu),
            eqx.nn.Linear(8, 1, key=k2),
        ]
    )
    xs = jr.normal(jr.PRNGKey(4), (16, 4))
    ys = jnp.sum(xs, axis=1, keepdims=True)

    def loss(model, state):
        batched = jax.vmap(
            model, axis_name="batch", in_axes=(0, None), out_axes=(0, None)
        )
        pred, state = batched(xs, state)
        return jnp.mean((pred - ys) ** 2), state

    @eqx.filter_jit
    def step(model, state):
        (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(
            model, state
        )
        model = eqx.apply_updates(
            model, jax.tree_util.tree_map(lambda g: -0.1 * g, grads)
        )
        return model, state, value

    values = []
    for _ in range(3):
        model, state, value = step(model, state)
        values.append(value)
    inference = eqx.nn.inference_mode(model)
    out, _ = jax.vmap(inference, in_axes=(0, None), out_axes=(0, None))(xs, state)
    return values, eqx.filter(model, eqx.is_array), out


def test_stateful_training():
    _run(stateful_training)


# --- a recurrent memory model scanning an LSTMCell ---------------------------------


def recurrent_memory(eqx: Any) -> Any:
    class Memory(eqx.Module):
        cell: Any
        readout: Any
        hidden_size: int = eqx.field(static=True)

        def __init__(self, in_size, hidden_size, out_size, key):
            k1, k2 = jr.split(key)
            self.cell = eqx.nn.LSTMCell(in_size, hidden_size, key=k1)
            self.readout = eqx.nn.Linear(hidden_size, out_size, key=k2)
            self.hidden_size = hidden_size

        def __call__(self, xs):
            init = (jnp.zeros(self.hidden_size), jnp.zeros(self.hidden_size))

            def step(carry, x):
                carry = self.cell(x, carry)
                return carry, self.readout(carry[0])

            _, outs = jax.lax.scan(step, init, xs)
            return outs

    model = Memory(2, 6, 1, jr.PRNGKey(5))
    xs = jr.normal(jr.PRNGKey(6), (4, 10, 2))
    targets = jnp.cumsum(xs[..., :1], axis=1)

    @eqx.filter_jit
    def loss_and_grads(model):
        def loss(model):
            return jnp.mean((jax.vmap(model)(xs) - targets) ** 2)

        return eqx.filter_value_and_grad(loss)(model)

    return loss_and_grads(model)


def test_recurrent_memory():
    _run(recurrent_memory)
