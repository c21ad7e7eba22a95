"""Random configurations of every layer family in typedeqx.nn, with inputs near the
right ones (wrong ranks, wrong sizes, zero-length axes, other dtypes, the State of
another layer). Each input is either

- accepted, and then bit-identical to Equinox's result for the same key and inputs,
  gradient included; or
- refused with a typedeqx error that names the layer and the argument (or, at
  construction, the layer and the bad setting),

never an error from inside JAX or Python. Every example is built and called
abstractly (`jax.eval_shape`: the contract checks run, nothing compiles) and its
shapes and dtypes compared with Equinox's; the first accepted example of each
family is also built, run and differentiated in one jitted program per run, and
compared bit for bit. `RANDOM_CONFIGURATIONS_EXAMPLES=60` runs more examples per family
(the default, 5, keeps the file fast).
"""

import dataclasses
import os
import traceback
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import typedeqx as eqx

equinox = pytest.importorskip("equinox")

_SRC = os.path.join("src", "typedeqx") + os.sep
FLOATS = [jnp.float32, jnp.float32, jnp.float32, jnp.bfloat16, jnp.float16]
INPUT_DTYPES = [*FLOATS, jnp.int32]


@dataclasses.dataclass
class Case:
    """One layer configuration and one call of it."""

    name: str
    build: Callable[[Any], Any]  # lib -> layer, or (layer, state) if stateful
    args: tuple[Any, ...]
    arg_names: tuple[str, ...]
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    call: Callable[..., Any] | None = None  # (lib, layer, *args, **kwargs) -> out
    stateful: bool = False


def array(seed: int, shape: tuple[int, ...], dtype: Any) -> jax.Array:
    # NumPy's generator: jax.random would compile once per new shape.
    rng = np.random.default_rng(seed)
    if jnp.issubdtype(dtype, jnp.integer):
        return jnp.asarray(rng.integers(0, 3, shape).astype(dtype))
    return jnp.asarray(rng.standard_normal(shape).astype(np.float32).astype(dtype))


@st.composite
def near(draw: Any, natural: tuple[int, ...]) -> tuple[int, ...]:
    """`natural`, or one edit of it: an extra or missing axis, or one size changed
    (zero-length included)."""
    kind = draw(st.sampled_from(["same", "same", "same", "extra", "drop", "size"]))
    shape = list(natural)
    if kind == "extra":
        shape.insert(draw(st.integers(0, len(shape))), draw(st.integers(1, 3)))
    elif kind == "drop" and shape:
        shape.pop(draw(st.integers(0, len(shape) - 1)))
    elif kind == "size" and shape:
        shape[draw(st.integers(0, len(shape) - 1))] = draw(st.integers(0, 5))
    return tuple(shape)


@st.composite
def x_for(draw: Any, natural: tuple[int, ...], dtypes: Any = None) -> jax.Array:
    dtype = draw(st.sampled_from(dtypes or INPUT_DTYPES))
    return array(draw(st.integers(0, 2**16)), draw(near(natural)), dtype)


def _lib_layer(lib: Any, name: str) -> Any:
    return getattr(lib.nn, name)


# --- families -----------------------------------------------------------------


@st.composite
def linear(draw: Any) -> Case:
    fin = draw(st.sampled_from([1, 2, 3, "scalar"]))
    fout = draw(st.sampled_from([1, 2, 3, "scalar"]))
    bias, dtype, seed = (
        draw(st.booleans()),
        draw(st.sampled_from(FLOATS)),
        draw(st.integers(0, 99)),
    )
    x = draw(x_for(() if fin == "scalar" else (fin,)))
    return Case(
        "Linear",
        lambda lib: lib.nn.Linear(fin, fout, bias, dtype, key=jr.key(seed)),
        (x,),
        ("x",),
    )


@st.composite
def identity(draw: Any) -> Case:
    x = draw(x_for(tuple(draw(st.lists(st.integers(0, 3), max_size=3)))))
    return Case("Identity", lambda lib: lib.nn.Identity(), (x,), ("x",))


def _spatial(draw: Any, n: int, channels: int) -> tuple[int, ...]:
    return (
        channels,
        *draw(st.lists(st.integers(1, 5 if n < 3 else 3), min_size=n, max_size=n)),
    )


@st.composite
def conv(draw: Any, n: int) -> Case:
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kw = dict(
        kernel_size=draw(st.integers(1, 3)),
        stride=draw(st.integers(1, 2)),
        padding=draw(st.sampled_from([0, 1, "SAME", "VALID", "SAME_LOWER"])),
        dilation=draw(st.integers(1, 2)),
        groups=groups,
        use_bias=draw(st.booleans()),
        padding_mode=draw(
            st.sampled_from(["ZEROS", "ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"])
        ),
        dtype=draw(st.sampled_from(FLOATS)),
    )
    seed = draw(st.integers(0, 99))
    x = draw(x_for(_spatial(draw, n, cin)))
    name = f"Conv{n}d"
    return Case(
        name,
        lambda lib: _lib_layer(lib, name)(cin, cout, key=jr.key(seed), **kw),
        (x,),
        ("x",),
    )


@st.composite
def conv_transpose(draw: Any, n: int) -> Case:
    cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kw = dict(
        kernel_size=draw(st.integers(1, 3)),
        stride=stride,
        output_padding=draw(st.integers(0, max(stride, dilation) - 1)),
        padding=draw(st.sampled_from([0, 1, "SAME", "VALID"])),
        dilation=dilation,
        use_bias=draw(st.booleans()),
        dtype=draw(st.sampled_from(FLOATS)),
    )
    seed = draw(st.integers(0, 99))
    x = draw(x_for(_spatial(draw, n, cin)))
    name = f"ConvTranspose{n}d"
    return Case(
        name,
        lambda lib: _lib_layer(lib, name)(cin, cout, key=jr.key(seed), **kw),
        (x,),
        ("x",),
    )


@st.composite
def pool(draw: Any, kind: str, n: int) -> Case:
    kernel = draw(st.integers(1, 3))
    kw = dict(
        stride=draw(st.integers(1, 2)),
        padding=draw(st.integers(0, kernel // 2)),
        use_ceil=draw(st.booleans()),
    )
    x = draw(x_for(_spatial(draw, n, draw(st.integers(1, 2)))))
    name = f"{kind}Pool{n}d"
    return Case(name, lambda lib: _lib_layer(lib, name)(kernel, **kw), (x,), ("x",))


@st.composite
def adaptive(draw: Any, kind: str, n: int) -> Case:
    target = draw(st.integers(1, 3))
    x = draw(x_for(_spatial(draw, n, draw(st.integers(1, 2)))))
    name = f"Adaptive{kind}Pool{n}d"
    return Case(name, lambda lib: _lib_layer(lib, name)(target), (x,), ("x",))


@st.composite
def layer_norm(draw: Any) -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    w, b, dtype = (
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.sampled_from(FLOATS)),
    )
    x = draw(x_for(shape))
    return Case(
        "LayerNorm",
        lambda lib: lib.nn.LayerNorm(shape, use_weight=w, use_bias=b, dtype=dtype),
        (x,),
        ("x",),
    )


@st.composite
def rms_norm(draw: Any) -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    w, b, dtype = (
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.sampled_from(FLOATS)),
    )
    x = draw(x_for(shape))
    return Case(
        "RMSNorm",
        lambda lib: lib.nn.RMSNorm(shape, use_weight=w, use_bias=b, dtype=dtype),
        (x,),
        ("x",),
    )


@st.composite
def group_norm(draw: Any) -> Case:
    groups = draw(st.integers(1, 2))
    channels = groups * draw(st.integers(1, 2))
    affine, dtype = draw(st.booleans()), draw(st.sampled_from(FLOATS))
    x = draw(x_for((channels, *draw(st.lists(st.integers(1, 3), max_size=2)))))
    return Case(
        "GroupNorm",
        lambda lib: lib.nn.GroupNorm(
            groups, channels, channelwise_affine=affine, dtype=dtype
        ),
        (x,),
        ("x",),
    )


@st.composite
def dropout(draw: Any) -> Case:
    p = draw(st.sampled_from([0.0, 0.5, 1.0]))
    inference = draw(st.booleans())
    x = draw(x_for(tuple(draw(st.lists(st.integers(0, 3), max_size=2)))))
    kwargs = {"key": jr.key(draw(st.integers(0, 99)))} if draw(st.booleans()) else {}
    return Case(
        "Dropout", lambda lib: lib.nn.Dropout(p, inference), (x,), ("x",), kwargs
    )


@st.composite
def embedding(draw: Any) -> Case:
    num, size, seed = (
        draw(st.integers(1, 4)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 99)),
    )
    dtype = draw(st.sampled_from([jnp.int32, jnp.int32, jnp.float32, jnp.uint8]))
    shape = draw(near(()))
    x = jnp.full(shape, draw(st.integers(0, num - 1)), dtype)
    return Case(
        "Embedding",
        lambda lib: lib.nn.Embedding(num, size, key=jr.key(seed)),
        (x,),
        ("x",),
    )


@st.composite
def prelu(draw: Any) -> Case:
    alpha = draw(st.sampled_from([0.25, "array"]))
    x = draw(x_for(tuple(draw(st.lists(st.integers(0, 3), max_size=2)))))
    return Case(
        "PReLU",
        lambda lib: lib.nn.PReLU(
            jnp.array([0.1, 0.2, 0.3]) if alpha == "array" else alpha
        ),
        (x,),
        ("x",),
    )


@st.composite
def attention(draw: Any) -> Case:
    heads = draw(st.integers(1, 2))
    qsize, ksize, vsize = (heads * draw(st.integers(1, 2)) for _ in range(3))
    qseq, kvseq, seed = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 99)),
    )
    q = draw(x_for((qseq, qsize), FLOATS))
    k = draw(x_for((kvseq, ksize), FLOATS))
    v = draw(x_for((kvseq, vsize), FLOATS))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["mask"] = jnp.ones(draw(near((qseq, kvseq))), bool)
    return Case(
        "MultiheadAttention",
        lambda lib: lib.nn.MultiheadAttention(
            heads, qsize, ksize, vsize, key=jr.key(seed)
        ),
        (q, k, v),
        ("query", "key_", "value", "mask"),
        kwargs,
    )


@st.composite
def rope(draw: Any) -> Case:
    size = 2 * draw(st.integers(1, 3))
    x = draw(x_for((draw(st.integers(1, 3)), size), FLOATS))
    return Case(
        "RotaryPositionalEmbedding",
        lambda lib: lib.nn.RotaryPositionalEmbedding(size),
        (x,),
        ("x",),
    )


@st.composite
def cell(draw: Any, kind: str) -> Case:
    fin, hidden, seed = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 99)),
    )
    x = draw(x_for((fin,), FLOATS))
    h = draw(x_for((hidden,), FLOATS))
    state = (h, draw(x_for((hidden,), FLOATS))) if kind == "LSTM" else h
    name = f"{kind}Cell"
    return Case(
        name,
        lambda lib: _lib_layer(lib, name)(fin, hidden, key=jr.key(seed)),
        (x, state),
        ("input", "hidden"),
    )


def _batch_norm_call(lib: Any, layer: Any, x: Any, state: Any) -> Any:
    fn = jax.vmap(layer, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    return fn(x, state)


@st.composite
def batch_norm(draw: Any) -> Case:
    size, mode = draw(st.integers(1, 3)), draw(st.sampled_from(["ema", "batch"]))
    affine, inference = draw(st.booleans()), draw(st.booleans())
    dtype = draw(st.sampled_from(FLOATS))
    # The State: its own, or that of another mode, size or dtype.
    other = dict(mode=mode, size=size, dtype=dtype)
    if draw(st.booleans()):
        field = draw(st.sampled_from(["mode", "size", "dtype"]))
        other[field] = draw(
            st.sampled_from(
                {"mode": ["ema", "batch"], "size": [1, 2, 3], "dtype": FLOATS}[field]
            )
        )
    x = draw(x_for((3, size, *draw(st.lists(st.integers(1, 2), max_size=1)))))

    def build(lib: Any) -> Any:
        make = lib.nn.make_with_state(lib.nn.BatchNorm)
        kw = dict(channelwise_affine=affine, inference=inference)
        layer, _ = make(size, "batch", mode=mode, dtype=dtype, **kw)
        _, state = make(
            other["size"], "batch", mode=other["mode"], dtype=other["dtype"], **kw
        )
        return layer, state

    return Case(
        "BatchNorm", build, (x,), ("x", "state"), call=_batch_norm_call, stateful=True
    )


@st.composite
def spectral_norm(draw: Any) -> Case:
    fin, fout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ofin, ofout = (
        draw(st.sampled_from([fin, fin, 1, 2])),
        draw(st.sampled_from([fout, fout, 1, 2])),
    )
    inference, seed = draw(st.booleans()), draw(st.integers(0, 99))
    x = draw(x_for((fin,), FLOATS))

    def build(lib: Any) -> Any:
        def make(i: int, o: int) -> Any:
            lin = lib.nn.Linear(i, o, key=jr.key(seed))
            return lib.nn.make_with_state(lib.nn.SpectralNorm)(
                lin, "weight", inference=inference, key=jr.key(seed + 1)
            )

        return make(fin, fout)[0], make(ofin, ofout)[1]

    return Case("SpectralNorm", build, (x,), ("x", "state"), stateful=True)


@st.composite
def weight_norm(draw: Any) -> Case:
    fin, fout, axis = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.sampled_from([0, None])),
    )
    seed = draw(st.integers(0, 99))
    x = draw(x_for((fin,)))
    return Case(
        "WeightNorm",
        lambda lib: lib.nn.WeightNorm(
            lib.nn.Linear(fin, fout, key=jr.key(seed)), "weight", axis
        ),
        (x,),
        ("x",),
    )


def _shared_call(lib: Any, shared: Any, x: Any) -> Any:
    embedding, linear = shared()
    return linear(x)


@st.composite
def shared(draw: Any) -> Case:
    size, seed = draw(st.integers(1, 3)), draw(st.integers(0, 99))
    x = draw(x_for((size,)))

    def build(lib: Any) -> Any:
        emb = lib.nn.Embedding(4, size, key=jr.key(seed))
        lin = lib.nn.Linear(size, 4, key=jr.key(seed + 1))
        return lib.nn.Shared((emb, lin), lambda p: p[1].weight, lambda p: p[0].weight)

    return Case("Shared", build, (x,), ("x",), call=_shared_call)


@st.composite
def mlp(draw: Any) -> Case:
    fin = draw(st.sampled_from([1, 2, "scalar"]))
    fout = draw(st.sampled_from([1, 2, "scalar"]))
    width, depth, seed = (
        draw(st.integers(1, 3)),
        draw(st.integers(0, 2)),
        draw(st.integers(0, 99)),
    )
    x = draw(x_for(() if fin == "scalar" else (fin,)))
    return Case(
        "MLP",
        lambda lib: lib.nn.MLP(fin, fout, width, depth, key=jr.key(seed)),
        (x,),
        ("x",),
    )


@st.composite
def sequential(draw: Any) -> Case:
    a, b, c, seed = (draw(st.integers(1, 3)) for _ in range(4))
    x = draw(x_for((a,)))

    def build(lib: Any) -> Any:
        k1, k2 = jr.split(jr.key(seed))
        layers = [
            lib.nn.Linear(a, b, key=k1),
            lib.nn.Lambda(jax.nn.relu),
            lib.nn.Linear(b, c, key=k2),
        ]
        return lib.nn.Sequential(layers)

    return Case("Sequential", build, (x,), ("x",))


@st.composite
def lambda_(draw: Any) -> Case:
    x = draw(x_for(tuple(draw(st.lists(st.integers(0, 3), max_size=2))), FLOATS))
    return Case("Lambda", lambda lib: lib.nn.Lambda(jnp.tanh), (x,), ("x",))


FAMILIES: dict[str, Any] = {
    "Linear": linear(),
    "Identity": identity(),
    **{f"Conv{n}d": conv(n) for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": conv_transpose(n) for n in (1, 2, 3)},
    **{f"{k}Pool{n}d": pool(k, n) for k in ("Max", "Avg") for n in (1, 2, 3)},
    **{
        f"Adaptive{k}Pool{n}d": adaptive(k, n)
        for k in ("Max", "Avg")
        for n in (1, 2, 3)
    },
    "LayerNorm": layer_norm(),
    "RMSNorm": rms_norm(),
    "GroupNorm": group_norm(),
    "Dropout": dropout(),
    "Embedding": embedding(),
    "PReLU": prelu(),
    "MultiheadAttention": attention(),
    "RotaryPositionalEmbedding": rope(),
    "GRUCell": cell("GRU"),
    "LSTMCell": cell("LSTM"),
    "BatchNorm": batch_norm(),
    "SpectralNorm": spectral_norm(),
    "WeightNorm": weight_norm(),
    "Shared": shared(),
    "MLP": mlp(),
    "Sequential": sequential(),
    "Lambda": lambda_(),
}


# --- the property -----------------------------------------------------------------


def _is_typedeqx_error(error: BaseException) -> bool:
    """A typedeqx error type, or a ValueError/TypeError raised by typedeqx's own code
    (a bad configuration); never JAX's errors or Python's from deep inside."""
    if type(error).__module__.split(".")[0] == "typedeqx":
        return True
    if type(error) not in (ValueError, TypeError, NotImplementedError):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and _SRC in frames[-1].filename


def assert_diagnosis(error: BaseException, case: Case, during: str) -> None:
    """A typedeqx error naming the layer and the argument (or setting)."""
    text = str(error)
    assert _is_typedeqx_error(error), (
        f"{case.name} {during}: error from inside JAX or Python: "
        f"{type(error).__name__}: {text}"
    )
    assert case.name in text, f"{case.name} {during}: layer not named: {text}"
    if isinstance(error, eqx.ShapeError) and during == "call":
        assert error.parameter in case.arg_names or error.role != "argument", text


def _call(lib: Any, case: Case, layer: Any, state: Any) -> Any:
    args = (*case.args, state) if case.stateful else case.args
    if case.call is not None:
        return case.call(lib, layer, *args, **case.kwargs)
    return layer(*args, **case.kwargs)


def _loss(out: Any) -> Any:
    leaves = [x for x in jtu.tree_leaves(out) if jnp.issubdtype(x.dtype, jnp.inexact)]
    return sum(
        jnp.sum(
            x.astype(jnp.float32) * jnp.linspace(-1.0, 2.0, x.size).reshape(x.shape)
        )
        for x in leaves
    )


def _gradients(lib: Any, case: Case, layer: Any, state: Any) -> Any:
    params, static = lib.partition(layer, lib.is_inexact_array)
    inputs = [
        a for a in jtu.tree_leaves(case.args) if jnp.issubdtype(a.dtype, jnp.inexact)
    ]

    def loss(params: Any, inputs: Any) -> Any:
        it = iter(inputs)
        args = jtu.tree_map(
            lambda a: next(it) if jnp.issubdtype(a.dtype, jnp.inexact) else a, case.args
        )
        new = dataclasses.replace(case, args=args)
        out = _call(lib, new, lib.combine(params, static), state)
        return _loss(out[0] if case.stateful else out)

    return jtu.tree_leaves(jax.grad(loss, argnums=(0, 1))(params, inputs))


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))
    )


def _build(lib: Any, case: Case) -> tuple[Any, Any]:
    built = case.build(lib)
    return built if case.stateful else (built, None)


# Accepted inputs compared bit for bit (values, State and gradients), per family and
# run; the others by shape and dtype. Everything is traced, never run op by op:
# eager JAX compiles every operation (weight initialisers included) for every new
# shape, which is what makes a test like this slow.
CONCRETE_PER_FAMILY = 1
_concrete: dict[str, int] = {}


def _verdict(lib: Any, case: Case) -> tuple[Any, tuple[str, BaseException] | None]:
    """Build and call abstractly (`eval_shape`): the output's shapes and dtypes, or
    the stage that failed and its error."""
    stage = "construction"

    def run() -> Any:
        nonlocal stage
        layer, state = _build(lib, case)
        stage = "call"
        return _call(lib, case, layer, state)

    try:
        return jax.eval_shape(run), None
    except Exception as error:  # noqa: BLE001 - the property is about every error
        return None, (stage, error)


def _copy(state: Any) -> Any:
    return jtu.tree_map(lambda x: x, state)


def _program(lib: Any, case: Case) -> Any:
    """Build, call, and differentiate (a weighted sum of the output, with respect to
    the layer's float arrays and the float inputs)."""
    layer, state = _build(lib, case)
    # A State is spent by a call; the forward and backward passes use copies.
    out = _call(lib, case, layer, _copy(state))
    if not any(jnp.issubdtype(x.dtype, jnp.inexact) for x in jtu.tree_leaves(out)):
        return out, []
    return out, _gradients(lib, case, layer, _copy(state))


def _compare_concretely(case: Case) -> None:
    # Both libraries in one jitted program: one compilation per example.
    ours, theirs = jax.jit(lambda: (_program(eqx, case), _program(equinox, case)))()
    ours_leaves, eq_leaves = jtu.tree_leaves(ours), jtu.tree_leaves(theirs)
    assert len(ours_leaves) == len(eq_leaves), case
    for a, b in zip(ours_leaves, eq_leaves, strict=True):
        assert _same(a, b), (case, a, b)


def check(case: Case) -> None:
    out, failed = _verdict(eqx, case)
    if failed is not None:
        assert_diagnosis(failed[1], case, failed[0])
        return
    eq_out, eq_failed = _verdict(equinox, case)
    assert eq_failed is None, (case, "accepted, but Equinox fails", eq_failed)
    assert jtu.tree_structure(out) == jtu.tree_structure(eq_out) or case.stateful
    for a, b in zip(jtu.tree_leaves(out), jtu.tree_leaves(eq_out), strict=True):
        assert (a.shape, a.dtype) == (b.shape, b.dtype), (case, a, b)
    if _concrete.get(case.name, 0) < CONCRETE_PER_FAMILY:
        _concrete[case.name] = _concrete.get(case.name, 0) + 1
        _compare_concretely(case)


@pytest.mark.parametrize("family", FAMILIES)
@settings(
    max_examples=int(os.environ.get("RANDOM_CONFIGURATIONS_EXAMPLES", "5")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    # No shrinking: a failure is reported as drawn (shrinking recompiles a lot).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_random_configuration(family, data):
    check(data.draw(FAMILIES[family]))


def test_every_family_is_covered():
    # Every public layer class of typedeqx.nn has a family here, except the
    # generic bases that the per-dimension classes cover and the State machinery.
    generic = {"Conv", "ConvTranspose", "Pool", "AdaptivePool", "StatefulLayer"}
    machinery = {"State", "StateIndex"}
    public = {
        n
        for n in dir(eqx.nn)
        if isinstance(getattr(eqx.nn, n), type) and not n.startswith("_")
    }
    assert public - generic - machinery == set(FAMILIES)
