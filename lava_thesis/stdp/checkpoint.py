"""Checkpoints of STDP training: everything needed to continue a run exactly.

A checkpoint is one ``.npz`` archive (written atomically: a crash leaves the previous one) with

* the network's state (:meth:`~lava_thesis.stdp.STDPNetwork.get_state`: weights, mask,
  adaptive thresholds theta, traces, neuron state, clock, pruning schedule, reseed count);
* numba's random generator (the Poisson input; Mersenne Twister: position + 624 words);
* the training loop's place: ``done`` images of ``total``, the current epoch's image order,
  the NumPy generator that draws the orders, and the training seconds so far;
* ``meta``: JSON with the format, the progress and the *fingerprint* of the run (network
  size and parameters, seed, training-set size and content hash, epochs, pruning settings).

:func:`load_checkpoint` refuses a checkpoint whose fingerprint differs from the run's, naming
the file and the first differing field, so a run is never continued from another one's state.

Example:
    >>> import tempfile, numpy as np
    >>> from lava_thesis.stdp import STDPNetwork, STDPParams
    >>> net = STDPNetwork(STDPParams(n_input=4, n_exc=2), seed=1)
    >>> path = tempfile.mkdtemp() + "/run.seed1.ckpt"
    >>> save_checkpoint(path, net, {"seed": 1}, done=0, total=5, order=np.arange(5),
    ...                 rng=np.random.default_rng(1), seconds=0.0)
    >>> load_checkpoint(path, STDPNetwork(STDPParams(n_input=4, n_exc=2)), {"seed": 1}).done
    0
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import _helperlib

from lava_thesis.atomic import atomic_path
from lava_thesis.errors import ModelFileError
from lava_thesis.stdp.engine import STDPNetwork

FORMAT = "lava-thesis-stdp-checkpoint-1"
EXPECTED = "an STDP training checkpoint written by lava_thesis.stdp.checkpoint"
_MT_WORDS = 624  # Mersenne Twister state words


def checkpoint_path(model_dir: str | os.PathLike, experiment: str, seed: int) -> Path:
    """Where seed ``seed`` of ``experiment`` keeps its checkpoint: one file per seed,
    ``<model_dir>/<experiment>.seed<seed>.ckpt``."""
    return Path(model_dir) / f"{experiment}.seed{seed}.ckpt"


def numba_rng_state() -> np.ndarray:
    """The calling thread's numba generator (the one :func:`kernels.poisson_csr` draws from)
    as ``uint64`` ``[position, word_0, ..., word_623]``."""
    index, words = _helperlib.rnd_get_state(_helperlib.rnd_get_np_state_ptr())
    return np.array([index, *words], np.uint64)


def set_numba_rng_state(state: np.ndarray) -> None:
    """Restore :func:`numba_rng_state`'s output into the calling thread's numba generator."""
    state = np.asarray(state, np.uint64)
    if state.shape != (_MT_WORDS + 1,):
        raise ValueError(f"numba generator state must have {_MT_WORDS + 1} words, "
                         f"got shape {state.shape}")
    _helperlib.rnd_set_state(_helperlib.rnd_get_np_state_ptr(),
                             (int(state[0]), [int(w) for w in state[1:]]))


def data_hash(images: np.ndarray) -> str:
    """SHA-1 of the training images (dtype, shape and bytes): part of a run's fingerprint."""
    images = np.ascontiguousarray(images)
    digest = hashlib.sha1(f"{images.dtype.str}{images.shape}".encode())
    digest.update(images.data)
    return digest.hexdigest()


@dataclass
class Checkpoint:
    """A loaded checkpoint: ``done`` of ``total`` training images presented, ``order`` (the
    current epoch's image order), the order generator's state, the training seconds so far.
    The network state and numba's generator are already restored when this is returned."""

    path: Path
    done: int
    total: int
    order: np.ndarray
    rng_state: dict
    seconds: float


def save_checkpoint(path: str | os.PathLike, net: STDPNetwork, fingerprint: dict, *,
                    done: int, total: int, order: np.ndarray, rng: np.random.Generator,
                    seconds: float) -> None:
    """Atomically write ``net``'s state, numba's generator, ``rng`` (the generator of the
    image orders), the current ``order`` and the progress (``done`` of ``total`` images,
    ``seconds`` of training) with ``fingerprint`` (JSON-able: the run's identity) to
    ``path``. The file is synced to disk before it replaces the previous checkpoint."""
    meta = {"format": FORMAT, "fingerprint": fingerprint, "done": int(done),
            "total": int(total), "seconds": float(seconds),
            "rng_state": rng.bit_generator.state}
    arrays = {f"net_{name}": value for name, value in net.get_state().items()}
    arrays.update(numba_rng=numba_rng_state(), order=np.asarray(order, np.int64),
                  meta=np.array(json.dumps(meta)))
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())


def _describe(value) -> str:
    return json.dumps(value, sort_keys=True)


def _mismatch(path: Path, saved: dict, wanted: dict) -> None:
    """ModelFileError naming the first field (in ``wanted``'s order) where ``saved`` and
    ``wanted`` differ."""
    for key in [*wanted, *(k for k in saved if k not in wanted)]:
        a, b = saved.get(key, "<absent>"), wanted.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            _mismatch(path, {f"{key}.{k}": v for k, v in a.items()},
                      {f"{key}.{k}": v for k, v in b.items()})
        elif a != b:
            raise ModelFileError(
                path, f"checkpoint of a different run: {key} is {_describe(a)} there, "
                      f"{_describe(b)} in this run",
                "a checkpoint of this configuration; delete the file or run without "
                "--resume to start over")


def load_checkpoint(path: str | os.PathLike, net: STDPNetwork,
                    fingerprint: dict) -> Checkpoint:
    """Read ``path``, check that it was written by a run with this ``fingerprint`` and
    restore its state into ``net`` and numba's generator.

    Raises :class:`~lava_thesis.errors.ModelFileError` (naming ``path``) for an unreadable
    or incomplete file and for a fingerprint mismatch (naming the field); nothing is changed
    then."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ModelFileError(path, f"unreadable checkpoint ({err})", EXPECTED) from err
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != FORMAT:
        raise ModelFileError(path, f"format {found!r}", EXPECTED)
    # compare as JSON would store them (tuples become lists, ...)
    _mismatch(path, meta.get("fingerprint", {}), json.loads(json.dumps(fingerprint)))
    state = {name[4:]: value for name, value in arrays.items() if name.startswith("net_")}
    try:
        done, total = int(meta["done"]), int(meta["total"])
        order, rng_state = arrays["order"], meta["rng_state"]
        if not 0 <= done <= total or order.ndim != 1:
            raise ValueError(f"progress {done}/{total}, order of shape {order.shape}")
        before = net.get_state()
        net.set_state(state)
        try:
            set_numba_rng_state(arrays["numba_rng"])
        except ValueError:
            net.set_state(before)
            raise
    except (KeyError, ValueError, TypeError) as err:
        raise ModelFileError(path, f"incomplete or inconsistent checkpoint ({err})",
                             EXPECTED) from err
    return Checkpoint(path, done, total, order, rng_state, float(meta.get("seconds", 0.0)))
