"""`Shared`: ties nodes of a PyTree together, so that one stored copy is used in
several places (an embedding matrix reused as the output projection, say)."""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .._contracts import checked, module_paths, stand_in
from .._module import Module
from .._transform import filter_eval_shape
from .._tree import tree_at, tree_equal

_T = TypeVar("_T")


class SharedNode:
    """Stands in for a node that `Shared` removed; `Shared()` puts the tied value
    back in its place."""

    def __repr__(self) -> str:
        return "SharedNode"


@checked
class Shared(Module, Generic[_T]):
    """Ties together nodes of a PyTree.

    A PyTree holds each of its leaves once, so a layer that appears in two places of
    a model is two independent copies that drift apart in training. `Shared` keeps a
    single copy: at construction it removes the nodes selected by `where` (leaving a
    placeholder), and each call puts `get(pytree)` back in their place. Gradients
    with respect to a `Shared` therefore add up every use of the tied value.

    ```python
    import jax.numpy as jnp
    import jax.random as jr
    import typedeqx as eqx

    encode = eqx.nn.Linear(3, 3, key=jr.PRNGKey(0))
    decode = eqx.nn.Linear(3, 3, key=jr.PRNGKey(1))
    shared = eqx.nn.Shared(
        (encode, decode), where=lambda p: p[1].weight, get=lambda p: p[0].weight
    )
    encode, decode = shared()
    assert encode.weight is decode.weight
    ```
    """

    pytree: _T
    where: Callable[[_T], Any]
    get: Callable[[_T], Any]

    def __init__(
        self, pytree: _T, where: Callable[[_T], Any], get: Callable[[_T], Any]
    ):
        """**Arguments:**

        - `pytree`: the PyTree in which to tie nodes together.
        - `where`: a function from `pytree` to the node, or a sequence of nodes, to
            tie, as for `typedeqx.tree_at(where, pytree, ...)`. These are removed.
        - `get`: a function from `pytree` to the value, or a sequence of values (one
            per node of `where`), put in their place at each call. Each must have the
            structure, shapes and dtypes of its node. It may transform the value,
            such as `lambda p: p[0].weight.T`.
        """
        _check_same_structure(pytree, where, get)
        self.pytree = tree_at(where, pytree, replace_fn=_placeholder)
        self.where = where
        self.get = get

    def __call__(self) -> _T:
        """**Returns:**

        A PyTree of the structure of the original `pytree`, with `get(pytree)` in
        the place of the nodes selected by `where`.
        """
        restored: _T = tree_at(self.where, self.pytree, self.get(self.pytree))
        head = len(type(restored).__name__)
        for path, node in module_paths(restored):
            # Errors inside a restored module are named from this `Shared`.
            stand_in(node, self, ".pytree" + path[head:])
        return restored


def _placeholder(node: Any) -> SharedNode:
    del node
    return SharedNode()


def _check_same_structure(
    pytree: Any, where: Callable[..., Any], get: Callable[..., Any]
) -> None:
    source = filter_eval_shape(get, pytree)
    destination = filter_eval_shape(where, pytree)
    if tree_equal(source, destination) is not True:
        raise ValueError(
            "Every node being shared together must have the same pytree structure, "
            "shapes and dtypes. In Shared(pytree, where, get), `get(pytree)` must "
            "match the nodes `where(pytree)` it replaces, "
            f"but get gives {source} and where selects {destination}. Make `get` "
            "return one value per node selected by `where`, in the same order."
        )
