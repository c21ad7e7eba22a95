"""Fault injection: a small checkpoint truncated at every byte, and with every byte
flipped, loaded by path and from a file object, each load under a watchdog.

Every load must end within the time limit and either raise `CheckpointError` or
return exactly the saved tree: no hang, no silent wrong load, no other exception."""

import collections
import io
import signal

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import typedeqx as eqx

LIMIT_S = 2.0


class _Hang(Exception):
    pass


def _tree():
    return {
        "w": jnp.arange(6.0).reshape(2, 3),
        "b": jnp.array([1.5, -2.0], jnp.bfloat16),
        "n": np.arange(3, dtype=np.int16),
        "s": [0.5, 3, True],
        "name": "kept",
    }


def _same(a, b):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:
        return False
    for x, y in zip(la, lb):
        if type(x) is not type(y):
            return False
        if hasattr(x, "dtype"):
            if x.dtype != y.dtype or np.shape(x) != np.shape(y):
                return False
            if not np.array_equal(np.asarray(x), np.asarray(y)):
                return False
        elif x != y:
            return False
    return True


def _on_alarm(signum, frame):
    raise _Hang


def _outcome(load):
    """'ok', 'checkpoint error', 'hang', 'wrong' or the foreign exception's type."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        out = load()
    except _Hang:
        return "hang"
    except eqx.CheckpointError:
        return "checkpoint error"
    except Exception as e:
        return f"foreign {type(e).__module__}.{type(e).__qualname__}: {e}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return "ok" if _same(out, _tree()) else "wrong"


def _equinox_outcome(load):
    """For a file without checksums (Equinox's): only hangs and foreign
    exceptions are faults, since altered data cannot be told from real data."""
    outcome = _outcome(load)
    return "checkpoint error" if outcome in ("ok", "wrong") else outcome


def _damaged(data):
    for cut in range(len(data)):
        yield f"cut at {cut}", data[:cut]
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        yield f"flip at {i}", bytes(flipped)


@pytest.mark.parametrize("form", ["path", "file object"])
def test_every_truncation_and_flip_fails_cleanly(tmp_path, form):
    f = io.BytesIO()
    eqx.tree_serialise_leaves(f, _tree())
    data = f.getvalue()
    assert len(data) < 1500  # small enough to try every byte quickly
    path = tmp_path / "damaged.eqx"
    seen = collections.Counter()
    bad = []
    for what, damaged in _damaged(data):
        if form == "path":
            path.write_bytes(damaged)
            outcome = _outcome(lambda: eqx.tree_deserialise_leaves(path, _tree()))
        else:
            stream = io.BytesIO(damaged)
            outcome = _outcome(
                lambda stream=stream: eqx.tree_deserialise_leaves(stream, _tree())
            )
        seen[outcome.split(":")[0]] += 1
        if outcome not in ("ok", "checkpoint error"):
            bad.append(f"{what}: {outcome}")
    assert not bad, f"{len(bad)} bad loads of {sum(seen.values())}: {bad[:10]}"
    # Truncations all fail; a flip may leave the bytes meaning the same (a space
    # in the header padding turned into another whitespace character does not).
    assert seen["checkpoint error"] >= 2 * len(data) - 8


def test_an_equinox_file_never_hangs_or_raises_another_type(tmp_path):
    # Equinox's format has no checksums, but a damaged record length or header
    # must still end in a CheckpointError (Equinox's reader could loop forever on a
    # negative length in typedeqx's old scan, and NumPy's header parser raised
    # tokenize.TokenError).
    equinox = pytest.importorskip("equinox")
    f = io.BytesIO()
    equinox.tree_serialise_leaves(f, _tree())
    data = f.getvalue()
    path = tmp_path / "damaged.eqx"
    bad = []
    for what, damaged in _damaged(data):
        path.write_bytes(damaged)
        for load in (
            lambda: eqx.tree_deserialise_leaves(path, _tree()),
            lambda d=damaged: eqx.tree_deserialise_leaves(io.BytesIO(d), _tree()),
        ):
            outcome = _equinox_outcome(load)
            if outcome != "checkpoint error":
                bad.append(f"{what}: {outcome}")
    assert not bad, f"{len(bad)} bad loads: {bad[:10]}"
