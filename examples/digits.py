"""The main job: a checked CNN that classifies scikit-learn's 8x8 digits.

Run: `python examples/digits.py [--steps N] [--batch-size B] [--seed S]
[--out-dir DIR]`. It trains a small convolutional network (Conv2d, max pooling,
Dropout, Linear) with optax's AdamW, shows a progress bar with the loss and test
accuracy, saves the learning curves as a PNG and the trained model as a
checkpoint, reloads the checkpoint into a shape-only skeleton, and finally makes a
deliberate shape mistake so that you can see the diagnosis.

The data set ships with scikit-learn (1,797 images), so nothing is downloaded.
"""

import argparse
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, Scalar

import typedeqx as eqx

NUM_CLASSES = 10


@eqx.checked
class CNN(eqx.Module):
    """Two 3x3 convolutions, a 2x2 max pool, dropout and two linear layers."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    pool: eqx.nn.MaxPool2d
    dropout: eqx.nn.Dropout
    hidden: eqx.nn.Linear
    head: eqx.nn.Linear

    def __init__(self, *, key: PRNGKeyArray, width: int = 32):
        k1, k2, k3, k4 = jr.split(key, 4)
        self.conv1 = eqx.nn.Conv2d(1, width, 3, padding=1, key=k1)
        self.conv2 = eqx.nn.Conv2d(width, 2 * width, 3, padding=1, key=k2)
        self.pool = eqx.nn.MaxPool2d(2, stride=2)
        self.dropout = eqx.nn.Dropout(0.25)
        self.hidden = eqx.nn.Linear(2 * width * 4 * 4, 128, key=k3)
        self.head = eqx.nn.Linear(128, NUM_CLASSES, key=k4)

    def __call__(
        self, image: Float[Array, "1 8 8"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, " 10"]:
        """**Arguments:** `image`, one 8x8 grey image with a channel axis; `key`
        for dropout (omit it in inference mode). **Returns:** 10 class logits."""
        x = jax.nn.relu(self.conv1(image))
        x = self.pool(jax.nn.relu(self.conv2(x)))
        x = self.dropout(jnp.ravel(x), key=key)
        return self.head(jax.nn.relu(self.hidden(x)))


def load_digits(seed: int) -> tuple[Array, Array, Array, Array]:
    """Images scaled to [0, 1] with a channel axis, split 80/20 at random."""
    from sklearn.datasets import load_digits as sklearn_digits

    data = sklearn_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = data.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = int(0.8 * len(labels))
    train, test = order[:cut], order[cut:]
    return (
        jnp.asarray(images[train]),
        jnp.asarray(labels[train]),
        jnp.asarray(images[test]),
        jnp.asarray(labels[test]),
    )


def loss_fn(
    model: CNN, x: Float[Array, "b 1 8 8"], y: Int[Array, " b"], key: PRNGKeyArray
) -> Scalar:
    keys = jr.split(key, x.shape[0])
    logits = jax.vmap(model)(x, key=keys)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


@eqx.filter_jit
def accuracy(model: CNN, x: Float[Array, "b 1 8 8"], y: Int[Array, " b"]) -> Scalar:
    model = eqx.nn.inference_mode(model)
    predictions = jnp.argmax(jax.vmap(model)(x), axis=-1)
    return jnp.mean(predictions == y)


def make_step(optim: optax.GradientTransformation) -> Any:
    @eqx.filter_jit
    def step(
        model: CNN, opt_state: Any, x: Array, y: Array, key: PRNGKeyArray
    ) -> tuple[CNN, Any, Scalar]:
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y, key)
        params = eqx.filter(model, eqx.is_array)
        updates, opt_state = optim.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), opt_state, loss

    return step


def train(args: argparse.Namespace) -> tuple[CNN, dict[str, list[float]]]:
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = load_digits(args.seed)
    model_key, loop_key = jr.split(jr.PRNGKey(args.seed))
    model = CNN(key=model_key)
    schedule = optax.cosine_decay_schedule(3e-3, args.steps)
    optim = optax.adamw(schedule, weight_decay=1e-4)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    step = make_step(optim)
    history: dict[str, list[float]] = {"step": [], "loss": [], "accuracy": []}
    rng = np.random.default_rng(args.seed)
    bar = tqdm(range(1, args.steps + 1), desc="training", unit="step")
    for i in bar:
        batch = rng.choice(len(y_train), size=args.batch_size, replace=False)
        loop_key, step_key = jr.split(loop_key)
        model, opt_state, loss = step(
            model, opt_state, x_train[batch], y_train[batch], step_key
        )
        if i % args.eval_every == 0 or i == args.steps:
            acc = float(accuracy(model, x_test, y_test))
            history["step"].append(i)
            history["loss"].append(float(loss))
            history["accuracy"].append(acc)
            bar.set_postfix(loss=f"{float(loss):.4f}", test_acc=f"{acc:.2%}")
    return model, history


def plot(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(history["step"], history["loss"])
    left.set(xlabel="step", ylabel="training loss", yscale="log", title="Loss")
    right.plot(history["step"], history["accuracy"])
    right.set(xlabel="step", ylabel="test accuracy", title="Accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def show_a_shape_mistake(model: CNN, x_test: Array) -> None:
    """Feed a batch straight to the model, forgetting `jax.vmap`."""
    try:
        eqx.nn.inference_mode(model)(x_test[:16])
    except eqx.ShapeError as error:
        print(f"\nA deliberate mistake (a batch without jax.vmap) is caught:\n{error}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--out-dir", type=Path, default=Path("out/digits"))
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    # optax's schedules and AdamW mix Python floats with int32 step counts.
    with jax.numpy_dtype_promotion("standard"):
        model, history = train(args)
    seconds = time.perf_counter() - start
    final = history["accuracy"][-1]
    print(f"test accuracy {final:.2%} after {args.steps} steps in {seconds:.0f} s")

    curves = args.out_dir / "curves.png"
    plot(history, curves)
    checkpoint = args.out_dir / "cnn.eqx"
    eqx.tree_serialise_leaves(checkpoint, model)
    skeleton = eqx.filter_eval_shape(CNN, key=jr.PRNGKey(0))
    restored = eqx.tree_deserialise_leaves(checkpoint, skeleton)
    assert bool(eqx.tree_equal(restored, model)), "the checkpoint did not reload equal"
    print(f"curves: {curves}\ncheckpoint: {checkpoint} (reloaded and equal)")

    _, _, x_test, _ = load_digits(args.seed)
    show_a_shape_mistake(model, x_test)
    return {
        "history": history,
        "model": model,
        "restored": restored,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
