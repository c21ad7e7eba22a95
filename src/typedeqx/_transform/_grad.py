"""Filtered differentiation: with respect to the floating-point arrays of the first
argument, whatever else that argument holds.

`filter_grad`, `filter_value_and_grad`, `filter_jacfwd`, `filter_jacrev` and
`filter_hessian` all split the first argument into its inexact arrays (the
differentiated part) and everything else, hand JAX a function of the first part
only, and report `None` as the derivative of every other leaf.
"""

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

import jax

from .._filters import combine, is_array, is_inexact_array, partition
from ._split import Static, fun_name
from ._wrapper_base import ArgumentTypeError, TransformWrapper, reject_reserved

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _split_first(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    if not args:
        where = "was passed by keyword" if kwargs else "is missing"
        raise ArgumentTypeError(
            f"Functions wrapped with {name} are differentiated with respect to "
            f"their first positional argument, which {where}. Pass the thing to "
            "differentiate first, by position."
        )
    return partition(args[0], is_inexact_array)


def _with_first(
    fun: Callable[..., Any], nondiff: Any, rest: Any, kwargs: Any, has_aux: bool
) -> Callable[[Any], Any]:
    def call(diff: Any) -> Any:
        out = fun(combine(diff, nondiff), *rest, **kwargs)
        if has_aux:
            # The auxiliary output may be any PyTree: its arrays (which may depend on
            # `diff`) go through JAX as outputs, everything else rides along.
            out, aux = out
            arrays, other = partition(aux, is_array)
            return out, (arrays, Static(other))
        return out

    return call


class _ValueAndGrad(TransformWrapper):
    def __init__(self, fun: Callable[..., Any], has_aux: bool, kw: dict[str, Any]):
        super().__init__(fun, (has_aux, kw))
        self._fun = fun
        self._has_aux = has_aux
        self._kw = kw
        self._name = f"filter_value_and_grad({fun_name(fun)})"

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        diff, nondiff = _split_first(self._name, args, kwargs)
        call = _with_first(self._fun, nondiff, args[1:], kwargs, self._has_aux)
        transformed = jax.value_and_grad(call, has_aux=self._has_aux, **self._kw)
        value, grads = transformed(diff)
        if self._has_aux:
            arrays, other = value[1]
            value = (value[0], combine(arrays, other.value))
        return value, grads


class _Grad(_ValueAndGrad):
    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        value, grads = super().__call__(*args, **kwargs)
        return (grads, value[1]) if self._has_aux else grads


class _Jacobian(TransformWrapper):
    def __init__(self, fun: Callable[..., Any], has_aux: bool, reverse: bool):
        super().__init__(fun, (has_aux, reverse))
        self._fun = fun
        self._has_aux = has_aux
        self._transform = jax.jacrev if reverse else jax.jacfwd
        kind = "filter_jacrev" if reverse else "filter_jacfwd"
        self._name = f"{kind}({fun_name(fun)})"

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        diff, nondiff = _split_first(self._name, args, kwargs)
        call = _with_first(self._fun, nondiff, args[1:], kwargs, self._has_aux)
        out = self._transform(call, has_aux=self._has_aux)(diff)
        if not self._has_aux:
            return out
        arrays, other = out[1]
        return out[0], combine(arrays, other.value)


@overload
def filter_value_and_grad(
    *, has_aux: bool = False, **gradkwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def filter_value_and_grad(
    fun: Callable[..., Any], *, has_aux: bool = False, **gradkwargs: Any
) -> Callable[..., Any]: ...


def filter_value_and_grad(
    fun: Callable[..., Any] | None = None, *, has_aux: bool = False, **gradkwargs: Any
) -> Any:
    """Value and gradient of `fun` with respect to the inexact arrays of its first
    argument.

    **Arguments:**

    - `fun`: a scalar-valued function (returning `(scalar, aux)` when `has_aux`). May
        be omitted, to use `filter_value_and_grad(has_aux=...)` as a decorator.
    - `has_aux`: whether `fun` returns a pair whose second part is not
        differentiated.
    - `**gradkwargs`: passed on to `jax.value_and_grad` (not `argnums`).

    **Returns:**

    A function with the signature of `fun` returning `(value, grads)`: `value` is
    what `fun` returned; `grads` has the structure of the first argument, with the
    gradient (same shape and dtype) at each floating-point array and `None` at
    every other leaf.
    """
    reject_reserved("filter_value_and_grad", gradkwargs, ("argnums",))
    if fun is None:
        return lambda f: filter_value_and_grad(f, has_aux=has_aux, **gradkwargs)
    return _ValueAndGrad(fun, has_aux, gradkwargs)


@overload
def filter_grad(
    *, has_aux: bool = False, **gradkwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def filter_grad(
    fun: Callable[..., Any], *, has_aux: bool = False, **gradkwargs: Any
) -> Callable[..., Any]: ...


def filter_grad(
    fun: Callable[..., Any] | None = None, *, has_aux: bool = False, **gradkwargs: Any
) -> Any:
    """Gradient of `fun` with respect to the inexact arrays of its first argument.

    **Arguments:** as for [`filter_value_and_grad`][].

    **Returns:**

    A function with the signature of `fun` returning the gradients (structured like
    the first argument, `None` at every leaf that is not a floating-point array), or
    `(grads, aux)` when `has_aux`.

    ```python
    import jax
    import jax.numpy as jnp
    import typedeqx

    @typedeqx.filter_grad
    def loss(model, x, y):
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    model = typedeqx.nn.Linear(3, 2, key=jax.random.key(0))
    grads = loss(model, jnp.ones((5, 3)), jnp.zeros((5, 2)))
    assert grads.weight.shape == (2, 3)  # a model-shaped tree of gradients
    ```
    """
    reject_reserved("filter_grad", gradkwargs, ("argnums",))
    if fun is None:
        return lambda f: filter_grad(f, has_aux=has_aux, **gradkwargs)
    return _Grad(fun, has_aux, gradkwargs)


def filter_jacfwd(fun: Callable[_P, Any], has_aux: bool = False) -> Callable[_P, Any]:
    """Jacobian of `fun` with respect to the inexact arrays of its first argument,
    by forward-mode autodiff.

    **Arguments:**

    - `fun`: a function whose output is a PyTree of arrays (or `(output, aux)` when
        `has_aux`).
    - `has_aux`: whether `fun` returns a pair whose second part is not
        differentiated.

    **Returns:**

    A function with the signature of `fun`. Under each output leaf of shape `S` sits
    a tree structured like the first argument, holding an array of shape
    `S + x.shape` for each floating-point array `x`, and `None` elsewhere. With
    `has_aux`, it returns `(jacobian, aux)`.
    """
    return _Jacobian(fun, has_aux, reverse=False)


def filter_jacrev(fun: Callable[_P, Any], has_aux: bool = False) -> Callable[_P, Any]:
    """Jacobian of `fun` with respect to the inexact arrays of its first argument,
    by reverse-mode autodiff: the same result as [`filter_jacfwd`][], cheaper when
    the output has fewer elements than the inputs.

    **Arguments:**

    - `fun`: a function whose output is a PyTree of arrays (or `(output, aux)` when
        `has_aux`).
    - `has_aux`: whether `fun` returns a pair whose second part is not
        differentiated.

    **Returns:**

    A function with the signature of `fun`. Under each output leaf of shape `S` sits
    a tree structured like the first argument, holding an array of shape
    `S + x.shape` for each floating-point array `x`, and `None` elsewhere. With
    `has_aux`, it returns `(jacobian, aux)`.

    ```python
    import jax.numpy as jnp
    import typedeqx

    def f(params):
        return params["w"] @ params["x"]  # shape (2,)

    params = {"w": jnp.ones((2, 3)), "x": jnp.ones(3), "n": 3}
    jac = typedeqx.filter_jacrev(f)(params)
    assert jac["w"].shape == (2, 2, 3) and jac["x"].shape == (2, 3)
    assert jac["n"] is None  # not a floating-point array
    ```
    """
    return _Jacobian(fun, has_aux, reverse=True)


def filter_hessian(fun: Callable[_P, Any], has_aux: bool = False) -> Callable[_P, Any]:
    """Hessian of a scalar-valued `fun` with respect to the inexact arrays of its
    first argument (forward over reverse).

    **Arguments:** as for [`filter_jacfwd`][].

    **Returns:**

    A function with the signature of `fun`: a tree structured like the first
    argument, each floating-point leaf `x` holding a tree like the first argument
    again, with arrays of shape `x.shape + y.shape` (`None` at non-float leaves).
    """
    return filter_jacfwd(filter_jacrev(fun, has_aux=has_aux), has_aux=has_aux)
