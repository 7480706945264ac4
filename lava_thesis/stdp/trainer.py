"""The STDP training loop: epochs of shuffled images, a progress bar, checkpoints and exact
resumption.

One epoch presents ``n_train`` training images in an order drawn from a NumPy generator
(``rng.permutation``); :meth:`~lava_thesis.stdp.STDPNetwork.train` learns from them. Every
``every`` images (and after the last) :func:`train_epochs` can write a checkpoint
(:mod:`lava_thesis.stdp.checkpoint`); resumed from it, the run ends with the same weights,
thetas and spikes, bit for bit, as one never interrupted: the network state, numba's
generator (the Poisson input), the order generator and the current order are all restored.

The progress bar (tqdm, on stderr; ``TQDM_DISABLE=1`` hides it) shows images per second and
the time left; off a terminal it is redrawn at most every :data:`LOG_INTERVAL_S` seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lava_thesis.stdp.checkpoint import data_hash, load_checkpoint, save_checkpoint
from lava_thesis.stdp.engine import STDPNetwork

#: seconds between progress-bar updates when stderr is not a terminal (a log file)
LOG_INTERVAL_S = 30.0


@dataclass
class CheckpointPlan:
    """Checkpointing of one seed's training.

    Args:
        path: the seed's checkpoint file (:func:`~lava_thesis.stdp.checkpoint.checkpoint_path`).
        every: images between checkpoints (0: none written; the last image always writes one
            when ``every`` > 0).
        resume: continue from ``path`` when it exists.
        resumed_from: set by :func:`train_epochs`: the images already trained in the
            checkpoint it resumed from (None: it started from the beginning).
    """

    path: Path
    every: int = 0
    resume: bool = False
    resumed_from: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 0:
            raise ValueError(f"checkpoint every must be an int >= 0, got {self.every!r}")
        self.path = Path(self.path)


def fingerprint(net: STDPNetwork, seed: int, images: np.ndarray, n_train: int, epochs: int,
                ramp: Callable[[int], tuple[float, int]] | None = None) -> dict:
    """The identity of a training run, stored in its checkpoints: the network's parameters
    (``n_exc``, ...), ``seed``, the training set (size and :func:`data_hash`), images per
    epoch, epochs and the pruning settings (presentations between events; the ramp's final
    ``[prune_fraction, levels]`` and a hash of its value at every image). A checkpoint is
    continued only by a run with the same fingerprint; the fields are compared in this
    order."""
    total = n_train * epochs
    steps = np.array([ramp(g) for g in range(total)] if ramp else [], np.float64)
    return {"n_exc": net.params.n_exc, "seed": int(seed), "params": net.params.to_dict(),
            "train_images": len(images), "train_hash": data_hash(images),
            "train_samples": int(n_train), "epochs": int(epochs),
            "prune_every": int(net.prune_every),
            "prune_target": [float(v) for v in steps[-1]] if len(steps) else None,
            "prune_ramp_hash": data_hash(steps)}


@dataclass
class TrainOutcome:
    """``presentations`` (learning presentations, re-presentations included) and training
    ``seconds`` of the whole run (a resumed run adds the seconds before the checkpoint)."""

    presentations: int
    seconds: float


def _bar(total: int, initial: int, desc: str) -> tqdm:
    """A progress bar on stderr (images, images/s, time left); ``TQDM_*`` variables apply."""
    quiet = {} if sys.stderr.isatty() else {"mininterval": LOG_INTERVAL_S}
    return tqdm(total=total, initial=initial, desc=desc, unit="img", file=sys.stderr,
                smoothing=0.05, **quiet)


def train_epochs(net: STDPNetwork, images: np.ndarray, n_train: int, epochs: int,
                 rng: np.random.Generator, *,
                 ramp: Callable[[int], tuple[float, int]] | None = None,
                 checkpoint: CheckpointPlan | None = None, seed: int = 0,
                 log: Callable[[str], object] = print) -> TrainOutcome:
    """Train ``net`` for ``epochs`` passes over ``n_train`` of ``images`` (flat, a new
    ``rng.permutation`` per epoch); ``ramp(g)`` gives ``(prune_fraction, levels)`` before
    image ``g`` of the whole run (a pruning schedule).

    With ``checkpoint``: write one every ``checkpoint.every`` images, and with
    ``checkpoint.resume`` first continue from ``checkpoint.path`` if it exists (a checkpoint
    of another run, see :func:`fingerprint`, raises
    :class:`~lava_thesis.errors.ModelFileError`). ``seed`` is the seed that made ``net``
    and ``rng`` (part of the fingerprint and of the bar's label). For runs of 10,000 images
    per epoch or more, ``log`` gets a line at every tenth of an epoch.
    """
    total, done, spent = n_train * epochs, 0, 0.0
    order = np.arange(0)
    every = 0 if checkpoint is None else checkpoint.every
    ident = None if checkpoint is None else fingerprint(net, seed, images, n_train, epochs,
                                                        ramp)
    if checkpoint is not None and checkpoint.resume:
        if checkpoint.path.is_file():
            saved = load_checkpoint(checkpoint.path, net, ident)
            rng.bit_generator.state = saved.rng_state
            done, spent, order = saved.done, saved.seconds, saved.order
            checkpoint.resumed_from = done
            log(f"  seed {seed}: resumed from {checkpoint.path} after {done}/{total} images")
        else:
            log(f"  seed {seed}: no checkpoint {checkpoint.path}; training from the start")
    tenth = max(n_train // 10, 1)
    t0 = time.perf_counter()
    with _bar(total, done, f"STDP seed {seed}") as bar:
        for epoch in range(done // n_train if n_train else epochs, epochs):
            start = done - epoch * n_train  # > 0 only in a resumed epoch
            if start == 0:
                order = rng.permutation(len(images))[:n_train]
            offset = epoch * n_train

            def after(i: int, e: int = epoch, o: int = offset, ordered=order) -> None:
                bar.update(1)
                if n_train >= 10000 and (i + 1) % tenth == 0:
                    with tqdm.external_write_mode():
                        log(f"  epoch {e + 1}: {i + 1}/{n_train} images")
                g = o + i + 1
                if every and (g % every == 0 or g == total):
                    save_checkpoint(checkpoint.path, net, ident, done=g, total=total,
                                    order=ordered, rng=rng,
                                    seconds=spent + time.perf_counter() - t0)

            net.train(images[order], progress=after, start=start,
                      schedule=None if ramp is None else (lambda i, o=offset: ramp(i + o)))
            done = offset + n_train
    return TrainOutcome(net.presentations, spent + time.perf_counter() - t0)
