"""The filtered transformations keep the wrapped function's parameters (ParamSpec)
and say what they return; each works as a bare decorator and as a factory."""

from typing import Any, assert_type

import jax
import jax.numpy as jnp
import jax.random as jr
from jax.extend.core import ClosedJaxpr
from jaxtyping import Array, Float, PRNGKeyArray

import typedeqx as eqx

key = jr.PRNGKey(0)
x = jnp.ones(2)
model = eqx.nn.MLP(2, 2, 4, 1, key=key)


# filter_jit: same parameters, same return type.
@eqx.filter_jit
def predict(model: eqx.nn.MLP, x: Float[Array, " 2"], *, scale: float = 1.0) -> Array:
    return model(x) * scale


@eqx.filter_jit(donate="all-except-first")
def step(model: eqx.nn.MLP, x: Array) -> tuple[eqx.nn.MLP, Array]:
    return model, model(x)


assert_type(predict(model, x), Array)
assert_type(predict(model, x, scale=2.0), Array)
assert_type(step(model, x), tuple[eqx.nn.MLP, Array])
assert_type(eqx.filter_jit(jnp.sin)(x), Array)
predict(model, "x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
predict(model, x, 2.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
predict(model, x, scael=2.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
predict(x, model)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
step(model)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.filter_jit(donate="everything")  # type: ignore[call-overload]  # pyright: ignore
bad_output: str = predict(model, x)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


# On a method: the instance is bound as usual.
class Model(eqx.Module):
    mlp: eqx.nn.MLP

    @eqx.filter_jit
    def __call__(self, x: Array) -> Array:
        return self.mlp(x)

    @eqx.filter_vmap(in_axes=(None, 0))
    def batch(self, xs: Array) -> Array:
        return self.mlp(xs)


wrapped = Model(model)
assert_type(wrapped(x), Array)
assert_type(wrapped.batch(jnp.ones((8, 2))), Array)
wrapped(x, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


# filter_grad: gradients have the type of the first argument.
def loss(model: eqx.nn.MLP, x: Array, y: Array) -> Float[Array, ""]:
    return jnp.sum((model(x) - y) ** 2)


def loss_with_aux(model: eqx.nn.MLP, x: Array) -> tuple[Array, dict[str, Array]]:
    out = model(x)
    return jnp.sum(out), {"out": out}


assert_type(eqx.filter_grad(loss)(model, x, x), eqx.nn.MLP)
assert_type(
    eqx.filter_grad(loss_with_aux, has_aux=True)(model, x),
    tuple[eqx.nn.MLP, dict[str, Array]],
)


def sum_squares(x: Array) -> Array:
    return jnp.sum(x**2)


assert_type(eqx.filter_grad(sum_squares)(x), Array)
eqx.filter_grad(loss)(model, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.filter_grad(loss)(x, x, x)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
eqx.filter_grad(loss_with_aux)  # type: ignore[arg-type]  # pyright: ignore


@eqx.filter_grad
def grad_loss(model: eqx.nn.MLP, x: Array) -> Array:
    return jnp.sum(model(x))


@eqx.filter_grad(has_aux=True)
def grad_loss_aux(model: eqx.nn.MLP, x: Array) -> tuple[Array, int]:
    return jnp.sum(model(x)), 0


assert_type(grad_loss(model, x), eqx.nn.MLP)
assert_type(grad_loss_aux(model, x), tuple[eqx.nn.MLP, int])


# filter_value_and_grad: (value, gradients), or ((value, aux), gradients).
assert_type(eqx.filter_value_and_grad(loss)(model, x, x), tuple[Array, eqx.nn.MLP])
(value, aux), grads = eqx.filter_value_and_grad(loss_with_aux, has_aux=True)(model, x)
assert_type(value, Array)
assert_type(aux, dict[str, Array])
assert_type(grads, eqx.nn.MLP)


@eqx.filter_value_and_grad
def value_loss(model: eqx.nn.MLP, x: Array) -> Array:
    return jnp.sum(model(x))


@eqx.filter_value_and_grad(has_aux=True)
def value_loss_aux(model: eqx.nn.MLP, x: Array) -> tuple[Array, str]:
    return jnp.sum(model(x)), "aux"


assert_type(value_loss(model, x), tuple[Array, eqx.nn.MLP])
assert_type(value_loss_aux(model, x), tuple[tuple[Array, str], eqx.nn.MLP])
value_loss(model, "x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# Jacobians and Hessians keep the parameters.
jac = eqx.filter_jacfwd(loss)
assert_type(eqx.filter_jacrev(loss)(model, x, x), Any)
assert_type(eqx.filter_hessian(loss, has_aux=False)(model, x, x), Any)
jac(model, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


# filter_vmap keeps parameters and return type (arrays gain a leading axis, modules
# stay the same class), bare or as a factory.
@eqx.filter_vmap
def make_ensemble(key: PRNGKeyArray) -> eqx.nn.MLP:
    return eqx.nn.MLP(2, 2, 4, 1, key=key)


@eqx.filter_vmap(in_axes=(eqx.if_array(0), None), out_axes=0, axis_name="ensemble")
def evaluate(model: eqx.nn.MLP, x: Array) -> Array:
    return model(x)


ensemble = make_ensemble(jr.split(key, 8))
assert_type(ensemble, eqx.nn.MLP)
assert_type(evaluate(ensemble, x), Array)
assert_type(eqx.filter_vmap(model)(jnp.ones((8, 2))), Array)
assert_type(eqx.if_array(0)(x), int | None)
evaluate(x, ensemble)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
make_ensemble()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


@eqx.filter_pmap(axis_name="devices", donate="none")
def on_devices(x: Array) -> Array:
    return x * 2


assert_type(on_devices(jnp.ones((1, 2))), Array)
assert_type(eqx.filter_pmap(jnp.sin)(x), Array)


# filter_checkpoint, bare or as a factory.
@eqx.filter_checkpoint
def block(x: Array) -> Array:
    return jnp.sin(x)


@eqx.filter_checkpoint(prevent_cse=False)
def block2(x: Array, n: int) -> Array:
    return x * n


assert_type(block(x), Array)
assert_type(block2(x, 2), Array)
block2(x, "2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# Argument-taking helpers check the arguments against the function.
def affine(x: Array, scale: float) -> Array:
    return x * scale


assert_type(eqx.filter_eval_shape(affine, x, 2.0), Any)
# Abstract inputs stand for arrays: their types are not held to `fun`'s. The arity
# of positional calls, and keywords' names and types, still are.
struct = jax.ShapeDtypeStruct((3,), jnp.float32)  # type: ignore[no-untyped-call]  # JAX's
assert_type(eqx.filter_eval_shape(affine, struct, 2.0), Any)
mlp = eqx.nn.MLP(3, 2, 4, 1, key=jr.PRNGKey(0))
assert_type(eqx.filter_eval_shape(mlp, struct), Any)
eqx.filter_eval_shape(affine, x)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue]
eqx.filter_eval_shape(affine, x, 2.0, 3.0)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue]
eqx.filter_eval_shape(affine, x, scael=2.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
eqx.filter_eval_shape(affine, x, scale="2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
converted = eqx.filter_closure_convert(affine, x, 2.0)
assert_type(converted(x, 3.0), Array)
eqx.filter_closure_convert(affine, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
jaxpr, out_shapes, out_static = eqx.filter_make_jaxpr(affine)(x, 2.0)
assert_type(jaxpr, ClosedJaxpr)
eqx.filter_make_jaxpr(affine)(x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
assert_type(eqx.filter_shard(model, jax.devices()[0]), eqx.nn.MLP)
assert_type(eqx.filter_pure_callback(affine, x, 2.0, result_shape_dtypes=x), Any)


# Custom derivatives: the rules are registered with decorators that return them.
@eqx.filter_custom_jvp
def clipped(x: Array) -> Array:
    return jnp.clip(x, -1, 1)


@clipped.def_jvp
def clipped_jvp(
    primals: tuple[Array], tangents: tuple[Array | None]
) -> tuple[Array, Array]:
    (x,) = primals
    return clipped(x), jnp.ones_like(x)


@eqx.filter_custom_vjp
def scaled(vjp_arg: Array, scale: float) -> Array:
    return vjp_arg * scale


@scaled.def_fwd
def scaled_fwd(perturbed: Any, vjp_arg: Array, scale: float) -> tuple[Array, None]:
    return vjp_arg * scale, None


@scaled.def_bwd
def scaled_bwd(
    residuals: None, grad_out: Array, perturbed: Any, vjp_arg: Array, scale: float
) -> Array:
    return grad_out * scale


assert_type(clipped(x), Array)
assert_type(clipped_jvp((x,), (None,)), tuple[Array, Array])
assert_type(scaled(x, 2.0), Array)
clipped(x, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
scaled(x, "2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# filter_jvp and filter_vjp: the primal output keeps the function's return type.
def _affine(a: Array, n: int) -> Array:
    return a * n


jvp_out, jvp_tangent = eqx.filter_jvp(_affine, (x, 2), (x, None))
assert_type(jvp_out, Array)
vjp_out, vjp_fn = eqx.filter_vjp(_affine, x, 2)
assert_type(vjp_out, Array)
assert_type(vjp_fn(x), tuple[Any, ...])


def _with_aux(a: Array) -> tuple[Array, str]:
    return a, "aux"


vjp_aux_out, vjp_aux_fn, vjp_aux = eqx.filter_vjp(_with_aux, x, has_aux=True)
assert_type(vjp_aux, str)
