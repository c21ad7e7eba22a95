"""A character-level GPT, trained on Genesis (King James Version), with checked shapes.

Run: `python examples/gpt.py [--steps N] [--resume] [--devices N --shard MODE]`.

The model is the usual pre-norm transformer: a token `Embedding`, then blocks of
`LayerNorm` -> causal `MultiheadAttention` with rotary position embeddings ->
`LayerNorm` -> `MLP`, and a final `LayerNorm` and `Linear` head. The blocks are
built at once with `filter_vmap` (every array gets a leading layer axis) and
called with `lax.scan`, so JAX compiles one block, not `num_layers`.

It prints the loss, a short sample, and saves a checkpoint that `--resume`
continues from. With `--devices N` it runs on a `jax.sharding.Mesh` of N devices
(on a CPU, simulate them with
`XLA_FLAGS=--xla_force_host_platform_device_count=8`): `--shard data` splits each
batch across the devices and replicates the parameters; `--shard fsdp` also
splits every parameter matrix across the devices (fully sharded data parallel).
The shape checks stay on throughout.
"""

import argparse
import time
from pathlib import Path
from typing import Any

import jax
import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, Scalar

import typedeqx as eqx

TEXT = Path(__file__).resolve().parent / "data" / "genesis.txt"


class Config(eqx.Module):
    vocab_size: int
    seq_len: int = 64
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 4


@eqx.checked
class Block(eqx.Module):
    """Pre-norm attention and MLP, each with a residual connection."""

    norm1: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    rope: eqx.nn.RotaryPositionalEmbedding
    norm2: eqx.nn.LayerNorm
    mlp: eqx.nn.MLP

    def __init__(self, config: Config, *, key: PRNGKeyArray):
        k_attn, k_mlp = jr.split(key)
        d = config.d_model
        self.norm1 = eqx.nn.LayerNorm(d)
        self.attention = eqx.nn.MultiheadAttention(config.num_heads, d, key=k_attn)
        self.rope = eqx.nn.RotaryPositionalEmbedding(d // config.num_heads)
        self.norm2 = eqx.nn.LayerNorm(d)
        self.mlp = eqx.nn.MLP(d, d, 4 * d, 1, activation=jax.nn.gelu, key=k_mlp)

    def __call__(self, x: Float[Array, "seq d_model"]) -> Float[Array, "seq d_model"]:
        seq = x.shape[0]
        causal = jnp.tril(jnp.ones((seq, seq), dtype=bool))

        def rotate(q: Array, k: Array, v: Array) -> tuple[Array, Array, Array]:
            # Heads are axis 1: rotate each head's queries and keys by position.
            q = jax.vmap(self.rope, in_axes=1, out_axes=1)(q)
            k = jax.vmap(self.rope, in_axes=1, out_axes=1)(k)
            return q, k, v

        h = jax.vmap(self.norm1)(x)
        x = x + self.attention(h, h, h, mask=causal, process_heads=rotate)
        return x + jax.vmap(self.mlp)(jax.vmap(self.norm2)(x))


@eqx.checked
class GPT(eqx.Module):
    """Token embedding, a scanned stack of blocks, and a linear head."""

    embedding: eqx.nn.Embedding
    blocks: Block  # every array has a leading axis of size num_layers
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear

    def __init__(self, config: Config, *, key: PRNGKeyArray):
        k_emb, k_blocks, k_head = jr.split(key, 3)
        self.embedding = eqx.nn.Embedding(config.vocab_size, config.d_model, key=k_emb)
        keys = jr.split(k_blocks, config.num_layers)
        self.blocks = eqx.filter_vmap(lambda k: Block(config, key=k))(keys)
        self.norm = eqx.nn.LayerNorm(config.d_model)
        self.head = eqx.nn.Linear(config.d_model, config.vocab_size, key=k_head)

    def __call__(self, tokens: Int[Array, " seq"]) -> Float[Array, "seq vocab"]:
        x = jax.vmap(self.embedding)(tokens)
        dynamic, static = eqx.partition(self.blocks, eqx.is_array)

        def layer(h: Array, block_arrays: Block) -> tuple[Array, None]:
            return eqx.combine(block_arrays, static)(h), None

        x, _ = lax.scan(layer, x, dynamic)
        return jax.vmap(lambda v: self.head(self.norm(v)))(x)


class Corpus:
    """The text as integer tokens, one per character."""

    def __init__(self, path: Path = TEXT):
        text = path.read_text(encoding="utf-8")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.tokens = np.array([self.index[c] for c in text], dtype=np.int32)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.index[c] for c in text], dtype=np.int32)

    def decode(self, tokens: Any) -> str:
        return "".join(self.chars[int(t)] for t in tokens)

    def batch(
        self, rng: np.random.Generator, size: int, seq_len: int
    ) -> tuple[Array, Array]:
        starts = rng.integers(0, len(self.tokens) - seq_len - 1, size)
        windows = np.stack([self.tokens[s : s + seq_len + 1] for s in starts])
        return jnp.asarray(windows[:, :-1]), jnp.asarray(windows[:, 1:])


def loss_fn(model: GPT, x: Int[Array, "b seq"], y: Int[Array, "b seq"]) -> Scalar:
    logits = jax.vmap(model)(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def make_step(optim: optax.GradientTransformation, shard: "Sharder") -> Any:
    @eqx.filter_jit(donate="all-except-first")
    def step(model: GPT, opt_state: Any, x: Array, y: Array) -> tuple[GPT, Any, Scalar]:
        model, opt_state = shard.params(model), shard.params(opt_state)
        x, y = shard.batch(x), shard.batch(y)
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
        updates, opt_state = optim.update(
            grads, opt_state, eqx.filter(model, eqx.is_array)
        )
        model = eqx.apply_updates(model, updates)
        return shard.params(model), shard.params(opt_state), loss

    return step


class Sharder:
    """Where arrays live on a device mesh: `none`, `data` or `fsdp`."""

    def __init__(self, mode: str, devices: int):
        self.mode = mode
        self.mesh = None
        if mode != "none":
            # Auto axes: the compiler propagates the shardings that filter_shard
            # pins at the step's boundary.
            auto = (jax.sharding.AxisType.Auto,)
            self.mesh = jax.make_mesh((devices,), ("data",), axis_types=auto)

    def _named(self, *spec: Any) -> Any:
        return jax.sharding.NamedSharding(self.mesh, jax.sharding.PartitionSpec(*spec))

    def param_sharding(self, leaf: Any) -> Any:
        """Replicated for `data`; for `fsdp`, split along the largest axis that the
        device count divides (small or indivisible arrays stay replicated)."""
        if self.mode != "fsdp" or leaf.ndim == 0:
            return self._named()
        n = self.mesh.shape["data"]
        axes = sorted(range(leaf.ndim), key=lambda a: -leaf.shape[a])
        for axis in axes:
            if leaf.shape[axis] % n == 0 and leaf.shape[axis] >= n:
                spec = [None] * leaf.ndim
                spec[axis] = "data"
                return self._named(*spec)
        return self._named()

    def params(self, tree: Any) -> Any:
        if self.mesh is None:
            return tree
        shardings = jax.tree_util.tree_map(
            lambda x: self.param_sharding(x) if eqx.is_array(x) else None, tree
        )
        return eqx.filter_shard(tree, shardings)

    def batch(self, x: Array) -> Array:
        if self.mesh is None:
            return x
        return eqx.filter_shard(x, self._named("data"))


def sample(
    model: GPT,
    corpus: Corpus,
    prompt: str,
    length: int,
    seq_len: int,
    key: PRNGKeyArray,
) -> str:
    """Sample `length` characters after `prompt`, from a window of `seq_len`."""
    tokens = list(corpus.encode(prompt))

    @eqx.filter_jit
    def next_logits(
        model: GPT, window: Int[Array, " seq"], last: Int[Array, ""]
    ) -> Array:
        return model(window)[last]

    for _ in range(length):
        # A fixed-size window, right-padded while the text is short: attention is
        # causal, so the padding never reaches the position that is read. One
        # shape means one compilation.
        recent = tokens[-seq_len:]
        window = np.zeros(seq_len, dtype=np.int32)
        window[: len(recent)] = recent
        logits = next_logits(model, jnp.asarray(window), jnp.asarray(len(recent) - 1))
        key, subkey = jr.split(key)
        tokens.append(int(jr.categorical(subkey, logits / 0.8)))
    return corpus.decode(tokens)


def save(path: Path, model: GPT, opt_state: Any, step: int) -> None:
    eqx.tree_serialise_leaves(path, (model, opt_state, jnp.asarray(step)))


def load(path: Path, config: Config, optim: Any) -> tuple[GPT, Any, int]:
    """Load into a shape-only skeleton: no weights are initialised twice."""

    def skeleton() -> tuple[GPT, Any, Array]:
        model = GPT(config, key=jr.PRNGKey(0))
        return model, optim.init(eqx.filter(model, eqx.is_array)), jnp.asarray(0)

    like = eqx.filter_eval_shape(skeleton)
    model, opt_state, step = eqx.tree_deserialise_leaves(path, like)
    return model, opt_state, int(step)


def save_sharded(directory: Path, model: GPT, opt_state: Any) -> None:
    """Save the arrays with orbax: each device writes its own shards."""
    import orbax.checkpoint as ocp

    leaves = jax.tree_util.tree_leaves(eqx.filter((model, opt_state), eqx.is_array))
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory.resolve(), leaves, force=True)
    checkpointer.wait_until_finished()


def load_sharded(
    directory: Path, config: Config, optim: Any, shard: Sharder
) -> tuple[GPT, Any]:
    """Restore into a `filter_eval_shape` skeleton whose leaves carry the intended
    shardings, so every device reads only its own shards."""
    import orbax.checkpoint as ocp

    def skeleton() -> tuple[GPT, Any]:
        model = GPT(config, key=jr.PRNGKey(0))
        return model, optim.init(eqx.filter(model, eqx.is_array))

    like = eqx.filter_eval_shape(skeleton)
    arrays, static = eqx.partition(like, lambda x: isinstance(x, jax.ShapeDtypeStruct))
    leaves, treedef = jax.tree_util.tree_flatten(arrays)
    targets = [
        jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=shard.param_sharding(x))
        for x in leaves
    ]
    restored = ocp.StandardCheckpointer().restore(directory.resolve(), targets)
    model, opt_state = eqx.combine(
        jax.tree_util.tree_unflatten(treedef, restored), static
    )
    return model, opt_state


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=Path("out/gpt"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--shard", choices=["none", "data", "fsdp"], default="none")
    parser.add_argument("--sample-length", type=int, default=200)
    parser.add_argument(
        "--orbax", action="store_true", help="also save a sharded orbax checkpoint"
    )
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out_dir / "gpt.eqx"

    corpus = Corpus()
    config = Config(vocab_size=len(corpus.chars))
    optim = optax.adamw(optax.warmup_cosine_decay_schedule(0.0, 3e-3, 50, 10_000))
    shard = Sharder(args.shard, args.devices)
    if args.resume:
        model, opt_state, first = load(checkpoint, config, optim)
        print(f"resumed from {checkpoint} at step {first}")
    else:
        model = GPT(config, key=jr.PRNGKey(args.seed))
        opt_state, first = optim.init(eqx.filter(model, eqx.is_array)), 0
    model, opt_state = shard.params(model), shard.params(opt_state)
    step = make_step(optim, shard)
    rng = np.random.default_rng(args.seed + first)
    losses = []
    start = time.perf_counter()
    for i in range(first + 1, first + args.steps + 1):
        x, y = corpus.batch(rng, args.batch_size, config.seq_len)
        model, opt_state, loss = step(model, opt_state, x, y)
        losses.append(float(loss))
        if i % 100 == 0 or i == first + args.steps:
            print(
                f"step {i:5d}  loss {losses[-1]:.3f}  ({time.perf_counter() - start:.0f} s)"
            )
    if shard.mesh is not None:
        weight = model.blocks.mlp.layers[0].weight
        print(
            f"mesh of {args.devices} devices, --shard {args.shard}: an MLP weight "
            f"{weight.shape} is laid out as {weight.sharding.spec}"
        )
    save(checkpoint, model, opt_state, first + args.steps)
    if args.orbax:
        sharded = args.out_dir / "orbax"
        save_sharded(sharded, model, opt_state)
        restored, _ = load_sharded(sharded, config, optim, shard)
        assert bool(eqx.tree_equal(restored, model)), "orbax restore differs"
        layout = restored.blocks.mlp.layers[0].weight.sharding
        print(f"orbax checkpoint: {sharded} (restored equal; an MLP weight: {layout})")
    text = sample(
        model, corpus, "And God said", args.sample_length, config.seq_len, jr.PRNGKey(1)
    )
    print(f"checkpoint: {checkpoint}\nsample:\n{text}")
    return {"losses": losses, "model": model, "sample": text, "shard": shard}


if __name__ == "__main__":
    # optax's schedules and AdamW mix Python floats with int32 step counts.
    with jax.numpy_dtype_promotion("standard"):
        main()
