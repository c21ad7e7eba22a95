"""tree_at and tree_equal."""

import dataclasses
import math
from collections import namedtuple

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest

import typedeqx as eqx

Pair = namedtuple("Pair", ["first", "second"])


@jtu.register_dataclass
@dataclasses.dataclass
class Box:
    value: object
    tag: str = dataclasses.field(default="box", metadata={"static": True})


class Scaled(eqx.Module):
    weight: jax.Array
    bias: jax.Array | None
    in_features: int = eqx.field(static=True)

    def __init__(self, weight, bias):
        Scaled.init_calls += 1
        self.weight = weight
        self.bias = bias
        self.in_features = weight.shape[-1]


Scaled.init_calls = 0


def _tree():
    return {"a": jnp.ones(2), "b": [1, (2, 3)], "c": None, "d": Pair(4, 5)}


# --- tree_at: what can be selected -------------------------------------------------


def test_replace_leaf_out_of_place():
    tree = _tree()
    new = eqx.tree_at(lambda t: t["b"][1][0], tree, 20)
    assert new["b"] == [1, (20, 3)]
    assert tree["b"] == [1, (2, 3)]
    assert new["a"] is tree["a"]


def test_replace_subtree_with_other_structure():
    new = eqx.tree_at(lambda t: t["b"], _tree(), {"x": 1})
    assert new["b"] == {"x": 1}
    assert new["d"] == Pair(4, 5)


def test_replace_namedtuple_field_and_whole_namedtuple():
    assert eqx.tree_at(lambda t: t["d"].second, _tree(), 50)["d"] == Pair(4, 50)
    assert eqx.tree_at(lambda t: t["d"], _tree(), 0)["d"] == 0


def test_replace_fn_on_leaf_and_subtree():
    new = eqx.tree_at(lambda t: t["a"], _tree(), replace_fn=lambda x: x * 3)
    assert np.array_equal(new["a"], jnp.full(2, 3.0))
    new = eqx.tree_at(lambda t: t["b"][1], _tree(), replace_fn=lambda x: x[::-1])
    assert new["b"] == [1, (3, 2)]


def test_replace_none_with_is_leaf():
    new = eqx.tree_at(lambda t: t["c"], _tree(), 7, is_leaf=lambda x: x is None)
    assert new["c"] == 7


def test_replace_none_without_is_leaf_explains():
    with pytest.raises(eqx.TreeError, match=r"returned None.*is_leaf=lambda x: x is"):
        eqx.tree_at(lambda t: t["c"], _tree(), 7)


def test_shared_leaf_located_by_position():
    shared = jnp.ones(3)
    new = eqx.tree_at(lambda t: t[1], [shared, shared, shared], 0)
    assert new[0] is shared and new[1] == 0 and new[2] is shared


def test_shared_subtree_located_by_position():
    sub = {"w": 1}
    new = eqx.tree_at(lambda t: t[0]["w"], [sub, sub], 2)
    assert new == [{"w": 2}, {"w": 1}]


def test_sequence_of_nodes_with_sequence_of_replacements():
    where = lambda t: [t["b"][0], t["d"].first, t["a"]]  # noqa: E731
    new = eqx.tree_at(where, _tree(), (10, 40, "a"))
    assert new["b"][0] == 10 and new["d"].first == 40 and new["a"] == "a"


def test_sequence_with_replace_fn():
    new = eqx.tree_at(lambda t: (t[0], t[2]), [1, 2, 3], replace_fn=lambda x: -x)
    assert new == [-1, 2, -3]


def test_list_node_is_one_selection():
    tree = {"xs": [1, 2]}
    assert eqx.tree_at(lambda t: t["xs"], tree, [9])["xs"] == [9]


def test_empty_selection_is_a_no_op():
    tree = _tree()
    assert eqx.tree_at(lambda t: [], tree, replace=[]) is tree
    assert eqx.tree_at(lambda t: (), tree, replace_fn=lambda x: x) is tree


def test_registered_dataclass_keeps_static_field():
    box = Box(jnp.zeros(2), tag="kept")
    new = eqx.tree_at(lambda b: b.value, box, 1.0)
    assert new.value == 1.0 and new.tag == "kept"


def test_is_leaf_node_replaced_whole():
    tree = [Box(1), Box(2)]
    is_box = lambda x: isinstance(x, Box)  # noqa: E731
    assert eqx.tree_at(lambda t: t[1], tree, 0, is_leaf=is_box) == [Box(1), 0]


def test_works_under_jit():
    @jax.jit
    def f(tree):
        return eqx.tree_at(lambda t: t["x"], tree, replace_fn=jnp.sin)

    out = f({"x": jnp.zeros(2), "y": jnp.ones(2)})
    assert np.array_equal(out["x"], jnp.zeros(2)) and np.array_equal(
        out["y"], jnp.ones(2)
    )


# --- tree_at: Modules --------------------------------------------------------------


def test_module_rebuilt_without_calling_init():
    module = Scaled(jnp.ones((2, 3)), jnp.zeros(2))
    before = Scaled.init_calls
    new = eqx.tree_at(lambda m: m.weight, module, jnp.zeros((2, 3)))
    assert Scaled.init_calls == before
    assert isinstance(new, Scaled) and new.in_features == 3
    assert np.array_equal(new.weight, jnp.zeros((2, 3)))


def test_module_none_field():
    module = Scaled(jnp.ones((2, 3)), None)
    new = eqx.tree_at(
        lambda m: m.bias, module, jnp.ones(2), is_leaf=lambda x: x is None
    )
    assert np.array_equal(new.bias, jnp.ones(2))


def test_static_field_is_not_a_node():
    module = Scaled(jnp.ones((2, 3)), None)
    with pytest.raises(eqx.TreeError, match=r"returned int 3, which is not a node"):
        eqx.tree_at(lambda m: m.in_features, module, 4)


def test_model_surgery_seed(getkey):
    mlp = eqx.nn.MLP(2, 3, 4, 2, key=getkey())
    new_final_layer = eqx.nn.Linear(4, 3, key=getkey())
    where = lambda m: m.layers[-1]  # noqa: E731
    new_mlp = eqx.tree_at(where, mlp, new_final_layer)
    assert eqx.tree_equal(new_mlp.layers[-1], new_final_layer)
    assert eqx.tree_equal(new_mlp.layers[0], mlp.layers[0])
    assert not eqx.tree_equal(new_mlp, mlp)
    assert new_mlp(jnp.ones(2)).shape == (3,)


def test_trainable_mask_doc_example(getkey):
    model = eqx.nn.MLP(2, 2, 3, 1, key=getkey())
    trainable = jtu.tree_map(lambda _: False, model)
    trainable = eqx.tree_at(lambda mlp: mlp.layers[-1].weight, trainable, replace=True)
    assert jtu.tree_leaves(trainable).count(True) == 1
    assert trainable.layers[-1].weight is True and trainable.layers[-1].bias is False


def test_custom_weight_seed(getkey):
    linear = eqx.nn.Linear(3, 4, key=getkey())
    new_weight = jax.random.normal(getkey(), (4, 3))
    where = lambda l: l.weight  # noqa: E731, E741
    new_linear = eqx.tree_at(where, linear, new_weight)
    assert new_linear.weight is new_weight and new_linear.bias is linear.bias


def trunc_init(weight: jax.Array, key: jax.Array) -> jax.Array:
    out, in_ = weight.shape
    stddev = math.sqrt(1 / in_)
    return stddev * jax.random.truncated_normal(
        key, shape=(out, in_), lower=-2, upper=2
    )


def init_linear_weight(model, init_fn, key):
    is_linear = lambda x: isinstance(x, eqx.nn.Linear)  # noqa: E731
    get_weights = lambda m: [  # noqa: E731
        x.weight
        for x in jax.tree_util.tree_leaves(m, is_leaf=is_linear)
        if is_linear(x)
    ]
    weights = get_weights(model)
    new_weights = [
        init_fn(weight, subkey)
        for weight, subkey in zip(weights, jax.random.split(key, len(weights)))  # noqa: B905
    ]
    new_model = eqx.tree_at(get_weights, model, new_weights)
    return new_model


def test_custom_init_every_linear_seed(getkey):
    model = [
        eqx.nn.MLP(2, 3, 5, 2, key=getkey()),
        {"head": eqx.nn.Linear(3, 1, key=getkey())},
    ]
    key = getkey()
    new_model = init_linear_weight(model, trunc_init, key)
    old = [layer.weight for layer in model[0].layers] + [model[1]["head"].weight]
    new = [layer.weight for layer in new_model[0].layers] + [
        new_model[1]["head"].weight
    ]
    keys = jax.random.split(key, 4)
    for w_old, w_new, k in zip(old, new, keys, strict=True):
        assert w_new.shape == w_old.shape
        assert np.array_equal(w_new, trunc_init(w_old, k))
    assert new_model[0].layers[0].bias is model[0].layers[0].bias


class Symmetric(eqx.Module):
    matrix: jax.Array

    def get(self):
        return 0.5 * (self.matrix + self.matrix.T)


def is_symmetric(x):
    return isinstance(x, Symmetric)


def maybe_symmetric(x):
    if is_symmetric(x):
        return x.get()
    else:
        return x


def resolve_symmetric(model):
    return jax.tree_util.tree_map(maybe_symmetric, model, is_leaf=is_symmetric)


def test_symmetric_wrapper_seed(getkey):
    model = eqx.nn.MLP(3, 3, 3, 1, key=getkey())
    is_linear = lambda x: isinstance(x, eqx.nn.Linear)  # noqa: E731
    get_weights = lambda m: [  # noqa: E731
        x.weight
        for x in jax.tree_util.tree_leaves(m, is_leaf=is_linear)
        if is_linear(x)
    ]
    symmetric_model = eqx.tree_at(get_weights, model, replace_fn=Symmetric)
    assert all(is_symmetric(layer.weight) for layer in symmetric_model.layers)

    def loss_fn(params, static, x, y):
        model = resolve_symmetric(eqx.combine(params, static))
        pred_y = jax.vmap(model)(x)
        return jnp.sum((y - pred_y) ** 2)

    params, static = eqx.partition(symmetric_model, eqx.is_inexact_array)
    x, y = jr.normal(getkey(), (5, 3)), jr.normal(getkey(), (5, 3))
    grads = jax.grad(loss_fn)(params, static, x, y)
    for layer in grads.layers:
        g = layer.weight.matrix
        assert g.shape == (3, 3) and not np.allclose(g, 0)
    resolved = resolve_symmetric(symmetric_model)
    w = resolved.layers[0].weight
    assert np.allclose(w, w.T)


# --- tree_at: errors ---------------------------------------------------------------


def test_needs_exactly_one_of_replace_and_replace_fn():
    with pytest.raises(
        eqx.TreeError, match="exactly one of replace and replace_fn; got neither"
    ):
        eqx.tree_at(lambda t: t[0], [1])
    with pytest.raises(eqx.TreeError, match="got both"):
        eqx.tree_at(lambda t: t[0], [1], 2, replace_fn=abs)


def test_fresh_array_is_not_a_node():
    with pytest.raises(
        eqx.TreeError, match=r"returned an array f32\[3\], which is not a"
    ):
        eqx.tree_at(lambda t: jnp.zeros(3), _tree(), 1)


def test_object_from_outside_is_not_a_node():
    tree = {"xs": [1, 2]}
    with pytest.raises(eqx.TreeError, match=r"must return nodes of pytree"):
        eqx.tree_at(lambda _: tree["xs"], tree, [3])


def test_computing_with_leaves_surfaces_where_error():
    with pytest.raises(
        eqx.TreeError, match=r"`where` raised TypeError.*not compute"
    ) as info:
        eqx.tree_at(lambda t: t["a"] + 1, _tree(), 1)
    assert isinstance(info.value.__cause__, TypeError)


def test_where_raising_surfaces():
    with pytest.raises(eqx.TreeError, match=r"`where` raised KeyError: 'zz'"):
        eqx.tree_at(lambda t: t["zz"], _tree(), 1)


def test_count_mismatch_names_both_numbers():
    where = lambda t: [t["a"], t["b"][0], t["d"].first]  # noqa: E731
    with pytest.raises(eqx.TreeError, match=r"returned 3 nodes but `replace` has 2"):
        eqx.tree_at(where, _tree(), [1, 2])


def test_sequence_needs_sequence_of_replacements():
    with pytest.raises(eqx.TreeError, match=r"sequence of 2 nodes.*got int 5"):
        eqx.tree_at(lambda t: [t[0], t[1]], [1, 2], 5)


def test_same_node_twice():
    with pytest.raises(eqx.TreeError, match=r"same node twice \(leaf 0 \(int 1\)\)"):
        eqx.tree_at(lambda t: [t[0], t[0]], [1, 2], [3, 4])


def test_node_and_its_contents():
    with pytest.raises(
        eqx.TreeError, match=r"selected leaf 1 \(int 2\) and also a node"
    ):
        eqx.tree_at(lambda t: [t[0], t[0][1]], [[1, 2]], [3, 4])


def test_shared_empty_tuple_names_its_position():
    # `()` is one shared object, but each occurrence is a position of its own.
    assert eqx.tree_at(lambda t: [t[0]], [(), ()], [1]) == [1, ()]


def test_tree_error_is_a_value_error_from_typedeqx():
    assert issubclass(eqx.TreeError, ValueError)
    assert eqx.TreeError.__module__ == "typedeqx"


# --- tree_equal --------------------------------------------------------------------


def test_equal_trees():
    assert bool(eqx.tree_equal(_tree(), _tree())) is True
    assert bool(eqx.tree_equal(_tree(), _tree(), _tree())) is True
    assert bool(eqx.tree_equal(_tree())) is True


@pytest.mark.parametrize(
    "other",
    [
        {"a": jnp.ones(2), "b": [1, (2, 3)], "c": None, "d": Pair(4, 6)},  # leaf value
        {"a": jnp.ones(3), "b": [1, (2, 3)], "c": None, "d": Pair(4, 5)},  # shape
        {
            "a": jnp.ones(2, jnp.int32),
            "b": [1, (2, 3)],
            "c": None,
            "d": Pair(4, 5),
        },  # dtype
        {"a": jnp.ones(2), "b": [1, [2, 3]], "c": None, "d": Pair(4, 5)},  # structure
        {"a": 1.0, "b": [1, (2, 3)], "c": None, "d": Pair(4, 5)},  # array vs non-array
    ],
)
def test_unequal_trees(other):
    assert bool(eqx.tree_equal(_tree(), other)) is False
    assert bool(eqx.tree_equal(_tree(), _tree(), other)) is False


def test_numpy_and_jax_arrays():
    assert bool(eqx.tree_equal(np.ones(2, np.float32), jnp.ones(2))) is True
    x, y = np.ones(2, np.float32), jnp.ones(2)
    assert bool(eqx.tree_equal(x, y, typematch=True)) is False


def test_typematch():
    assert bool(eqx.tree_equal([1], [1.0])) is True
    assert bool(eqx.tree_equal([1], [1.0], typematch=True)) is False


def test_tolerances():
    x, y = jnp.array([1.0, 2.0]), jnp.array([1.0, 2.001])
    assert bool(eqx.tree_equal(x, y)) is False
    assert bool(eqx.tree_equal(x, y, atol=1e-2)) is True
    assert bool(eqx.tree_equal(x, y, rtol=1e-2)) is True
    assert bool(eqx.tree_equal(x, y, rtol=1e-5)) is False
    ints = jnp.array([1, 2]), jnp.array([1, 3])
    assert bool(eqx.tree_equal(*ints, atol=10.0)) is False


def test_nan_is_not_equal():
    assert bool(eqx.tree_equal(jnp.array([jnp.nan]), jnp.array([jnp.nan]))) is False


def test_traced_leaves_give_traced_bool():
    @jax.jit
    def f(x, y):
        out = eqx.tree_equal({"x": x}, {"x": y})
        assert isinstance(out, jax.Array)
        return out

    assert bool(f(jnp.ones(2), jnp.ones(2))) is True
    assert bool(f(jnp.ones(2), jnp.zeros(2))) is False


def test_traced_with_static_mismatch_is_python_false():
    @jax.jit
    def f(x):
        return jnp.asarray(eqx.tree_equal(x, jnp.ones(3)))

    assert bool(f(jnp.ones(2))) is False


def test_typematch_treats_tracers_as_arrays():
    const = jnp.ones(2)
    f = jax.jit(lambda x: eqx.tree_equal(x, const, typematch=True))
    assert bool(f(jnp.ones(2))) is True


def test_traced_with_tolerance():
    f = jax.jit(lambda x, y: eqx.tree_equal(x, y, atol=0.1))
    assert bool(f(jnp.ones(2), jnp.ones(2) + 0.05)) is True
    assert bool(f(jnp.ones(2), jnp.ones(2) + 0.5)) is False


def test_module_equality_uses_tree_equal(getkey):
    key = getkey()
    assert eqx.nn.Linear(2, 3, key=key) == eqx.nn.Linear(2, 3, key=key)
    assert eqx.nn.Linear(2, 3, key=key) != eqx.nn.Linear(2, 3, key=getkey())
