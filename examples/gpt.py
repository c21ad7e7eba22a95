"""A character-level GPT, trained on Genesis (King James Version), with checked shapes.

Run: `python examples/gpt.py [--steps N] [--resume] [--devices N --shard MODE]
[--processes N | --coordinator HOST:PORT --num-processes N --process-id I |
--distributed]`.

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

Several processes (one per host on a cluster) run the same script under JAX's
distributed runtime, with `--devices` devices each and one mesh over all of them.
`--processes N` starts N local processes on the loopback interface (CPU
collectives over gloo); `--coordinator HOST:PORT --num-processes N --process-id I`
joins a cluster whose process 0 listens at HOST:PORT; `--distributed` lets
`jax.distributed.initialize()` read the cluster from the environment (SLURM, Open
MPI, Cloud TPU, ...). Each process loads only its own rows of each global batch,
only process 0 prints, and the checkpoint is a sharded orbax one, each process
writing the shards its devices hold.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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


# `--size tiny` is for tests and smoke runs: the same model, a few thousand weights.
SIZES = {
    "small": {},
    "tiny": {"seq_len": 16, "d_model": 16, "num_heads": 2, "num_layers": 2},
}


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

    def starts(self, rng: np.random.Generator, size: int, seq_len: int) -> np.ndarray:
        """Where each row of the next global batch of `size` rows starts: every
        process draws the same `size` numbers, so the global batch is the same
        whatever the number of processes."""
        return rng.integers(0, len(self.tokens) - seq_len - 1, size)

    def windows(
        self, starts: np.ndarray, seq_len: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and next-character targets, each `(len(starts), seq_len)`."""
        windows = np.stack([self.tokens[s : s + seq_len + 1] for s in starts])
        return windows[:, :-1], windows[:, 1:]


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
        # The loss is replicated, so that every process can read it.
        return shard.params(model), shard.params(opt_state), shard.replicated(loss)

    return step


class Sharder:
    """Where arrays live on a device mesh: `none`, `data` or `fsdp`. The mesh spans
    every process's devices (`jax.devices()`)."""

    def __init__(self, mode: str, devices: int):
        self.mode = mode
        self.mesh = None
        if mode != "none":
            local = jax.local_device_count()
            if local != devices:
                raise SystemExit(
                    f"--devices {devices}, but this process has {local} device(s). On "
                    "a CPU, start Python with XLA_FLAGS=--xla_force_host_platform_"
                    f"device_count={devices} (--processes sets it for you)."
                )
            # Auto axes: the compiler propagates the shardings that filter_shard
            # pins at the step's boundary.
            auto = (jax.sharding.AxisType.Auto,)
            total = jax.device_count()
            self.mesh = jax.make_mesh((total,), ("data",), axis_types=auto)

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

    def replicated(self, x: Any) -> Any:
        """`x` on every device, so that every process can read its value."""
        return x if self.mesh is None else eqx.filter_shard(x, self._named())

    def local_rows(self, size: int) -> slice:
        """The rows of a `size`-row global batch that this process's devices hold."""
        if self.mesh is None:
            return slice(0, size)
        if size % self.mesh.size:
            raise SystemExit(
                f"--batch-size {size} does not split evenly over {self.mesh.size} "
                f"devices; use a multiple of {self.mesh.size}."
            )
        held = self._named("data").addressable_devices_indices_map((size,))
        rows = sorted({r for index in held.values() for r in range(size)[index[0]]})
        if rows != list(range(rows[0], rows[-1] + 1)):
            raise SystemExit(f"this process's rows are not contiguous: {rows}")
        return slice(rows[0], rows[-1] + 1)

    def global_batch(self, local: np.ndarray, size: int) -> Array:
        """One process's rows of the global batch, assembled into a global array
        that the processes' devices share (no process holds all of it)."""
        if self.mesh is None:
            return jnp.asarray(local)
        shape = (size, *local.shape[1:])
        return jax.make_array_from_process_local_data(self._named("data"), local, shape)


def load_batch(
    corpus: Corpus, shard: Sharder, rng: np.random.Generator, size: int, seq_len: int
) -> tuple[Array, Array]:
    """The next global batch, of which this process reads only its own rows."""
    starts = corpus.starts(rng, size, seq_len)[shard.local_rows(size)]
    x, y = corpus.windows(starts, seq_len)
    return shard.global_batch(x, size), shard.global_batch(y, size)


def sample(
    model: GPT,
    corpus: Corpus,
    prompt: str,
    length: int,
    seq_len: int,
    key: PRNGKeyArray,
    shard: Sharder | None = None,
) -> str:
    """Sample `length` characters after `prompt`, from a window of `seq_len`."""
    tokens = list(corpus.encode(prompt))
    replicated = shard.replicated if shard is not None else (lambda x: x)

    @eqx.filter_jit
    def next_token(
        model: GPT, window: Int[Array, " seq"], last: Int[Array, ""], key: Array
    ) -> Array:
        logits = model(window)[last]
        return replicated(jr.categorical(key, logits / 0.8))

    for _ in range(length):
        # A fixed-size window, right-padded while the text is short: attention is
        # causal, so the padding never reaches the position that is read. One
        # shape means one compilation.
        recent = tokens[-seq_len:]
        window = np.zeros(seq_len, dtype=np.int32)
        window[: len(recent)] = recent
        key, subkey = jr.split(key)
        token = next_token(model, window, np.int32(len(recent) - 1), subkey)
        tokens.append(int(token))
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
    """Save the arrays with orbax: each process writes the shards its devices hold
    (all processes call this, with the same directory)."""
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    argv: list[str],
    processes: int,
    devices: int,
    timeout: float,
    script: Path = Path(__file__),
) -> int:
    """Run `script` (this one) as `processes` local processes of `devices` CPU
    devices each, joined through a coordinator on a free loopback port: each gets
    `argv` and `--coordinator 127.0.0.1:PORT --num-processes N --process-id I`.
    Returns the first non-zero exit status (0 if all succeed); when one process
    fails or the time runs out, the others are killed rather than left waiting."""
    port = free_port()
    flags = [
        f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f
    ]
    flags.append(f"--xla_force_host_platform_device_count={devices}")
    env = {**os.environ, "XLA_FLAGS": " ".join(flags)}
    command = [sys.executable, "-u", str(script.resolve()), *argv]
    cluster = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(processes)]
    children = [
        subprocess.Popen([*command, *cluster, "--process-id", str(i)], env=env)
        for i in range(processes)
    ]
    deadline = time.monotonic() + timeout
    # A plain `kill` of the launcher must not leave its children running.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        while time.monotonic() < deadline:
            codes = [child.poll() for child in children]
            failed = [c for c in codes if c not in (None, 0)]
            if failed or all(c == 0 for c in codes):
                return failed[0] if failed else 0
            time.sleep(0.1)
        print(
            f"gpt.py: the processes did not finish in {timeout:.0f} s", file=sys.stderr
        )
        return 124
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
        signal.signal(signal.SIGTERM, previous)


def join_cluster(args: argparse.Namespace) -> None:
    """Start JAX's distributed runtime, if this process is one of several."""
    if args.coordinator is None and not args.distributed:
        return
    # On CPUs, the processes' collectives go over TCP (gloo); GPUs and TPUs have
    # their own and ignore this.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if args.coordinator is None:  # SLURM, Open MPI, Cloud TPU, ...: auto-detected
        jax.distributed.initialize()
        return
    # JAX's coordinator listens on every interface unless told otherwise; a
    # loopback coordinator (one machine) listens on loopback only.
    host = args.coordinator.rsplit(":", 1)[0]
    loopback = host in ("127.0.0.1", "localhost", "[::1]")
    jax.distributed.initialize(
        args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
        coordinator_bind_address=args.coordinator if loopback else None,
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--out-dir", type=Path, default=Path("out/gpt"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--devices", type=int, default=1, help="per process")
    parser.add_argument("--shard", choices=["none", "data", "fsdp"], default="none")
    parser.add_argument("--sample-length", type=int, default=200)
    parser.add_argument("--log-every", type=int, default=100, help="steps")
    parser.add_argument(
        "--orbax", action="store_true", help="also save a sharded orbax checkpoint"
    )
    cluster = parser.add_argument_group("several processes")
    cluster.add_argument(
        "--processes", type=int, default=1, help="start this many local processes"
    )
    cluster.add_argument("--timeout", type=float, default=3600, help="for --processes")
    cluster.add_argument("--coordinator", help="HOST:PORT of process 0")
    cluster.add_argument("--num-processes", type=int)
    cluster.add_argument("--process-id", type=int)
    cluster.add_argument(
        "--distributed",
        action="store_true",
        help="join the cluster that jax.distributed.initialize() detects",
    )
    args = parser.parse_args(argv)
    several = args.processes > 1 or args.coordinator or args.distributed
    if args.coordinator and (args.num_processes is None or args.process_id is None):
        parser.error("--coordinator needs --num-processes and --process-id")
    if several and args.shard == "none":
        parser.error("several processes need a mesh: pass --shard data or fsdp")
    if several and args.resume:
        parser.error(
            "--resume reads the single-file checkpoint, which only a one-process "
            "run writes; a run of several processes saves an orbax checkpoint"
        )
    return args


def train(args: argparse.Namespace, log: Callable[..., None]) -> dict[str, Any]:
    corpus = Corpus()
    config = Config(vocab_size=len(corpus.chars), **SIZES[args.size])
    optim = optax.adamw(optax.warmup_cosine_decay_schedule(0.0, 3e-3, 50, 10_000))
    shard = Sharder(args.shard, args.devices)
    checkpoint = args.out_dir / "gpt.eqx"
    if args.resume:
        model, opt_state, first = load(checkpoint, config, optim)
        log(f"resumed from {checkpoint} at step {first}")
    else:
        model = GPT(config, key=jr.PRNGKey(args.seed))
        opt_state, first = optim.init(eqx.filter(model, eqx.is_array)), 0
    model, opt_state = shard.params(model), shard.params(opt_state)
    step = make_step(optim, shard)
    rng = np.random.default_rng(args.seed + first)
    losses = []
    start = time.perf_counter()
    for i in range(first + 1, first + args.steps + 1):
        x, y = load_batch(corpus, shard, rng, args.batch_size, config.seq_len)
        model, opt_state, loss = step(model, opt_state, x, y)
        losses.append(float(loss))
        if i % args.log_every == 0 or i == first + args.steps:
            elapsed = time.perf_counter() - start
            log(f"step {i:5d}  loss {losses[-1]:.3f}  ({elapsed:.0f} s)")
    if shard.mesh is not None:
        weight = model.blocks.mlp.layers[0].weight
        log(
            f"mesh of {jax.device_count()} devices in {jax.process_count()} "
            f"process(es), --shard {args.shard}: an MLP weight {weight.shape} is laid "
            f"out as {weight.sharding.spec}"
        )
    if jax.process_index() == 0:  # every step's loss, one a line
        (args.out_dir / "losses.txt").write_text("".join(f"{v!r}\n" for v in losses))
    restored = None
    if jax.process_count() == 1:
        save(checkpoint, model, opt_state, first + args.steps)
        log(f"checkpoint: {checkpoint}")
    if args.orbax or jax.process_count() > 1:
        sharded = args.out_dir / "orbax"
        save_sharded(sharded, model, opt_state)
        restored, _ = load_sharded(sharded, config, optim, shard)
        # One compiled comparison, not one small computation per array: across
        # processes, every computation is a collective step of every process.
        same = eqx.filter_jit(eqx.tree_equal)(restored, model)
        assert bool(same), "orbax restore differs"
        layout = restored.blocks.mlp.layers[0].weight.sharding
        log(f"orbax checkpoint: {sharded} (restored equal; an MLP weight: {layout})")
    text = sample(
        model, corpus, "And God said", args.sample_length, config.seq_len,
        jr.PRNGKey(1), shard,
    )  # fmt: skip
    log(f"sample:\n{text}")
    return {"losses": losses, "model": model, "sample": text, "shard": shard,
            "restored": restored, "config": config}  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train (or, with `--processes N`, start N processes that train); returns what
    was trained, or `{"returncode": ...}` from the launcher."""
    args = parse(argv)
    if args.processes > 1 and args.coordinator is None and not args.distributed:
        rest = sys.argv[1:] if argv is None else argv
        code = launch(rest, args.processes, args.devices, args.timeout)
        return {"returncode": code}
    join_cluster(args)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    log = print if jax.process_index() == 0 else (lambda *_, **__: None)
    return train(args, log)


if __name__ == "__main__":
    # optax's schedules and AdamW mix Python floats with int32 step counts.
    with jax.numpy_dtype_promotion("standard"):
        sys.exit(main().get("returncode", 0))
