"""Per-epoch training checkpoints of a DIET-SNN, for runs that outlast a session or a machine.

A checkpoint holds everything that decides the rest of training: the network's state, Adam's and
the cosine schedule's state, the generators of the batch order and of the augmentation, torch's
global generator (dropout masks) and the caller's own state (e.g. the best epoch so far). A run
resumed from it continues exactly as if never stopped (``tests/test_diet_checkpoint.py``). It
is written atomically after every ``every``-th epoch; one from another configuration (any
:class:`~lava_thesis.diet.train.TrainConfig` field but the device) is refused with an error that
names the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lava_thesis.atomic import atomic_path
from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import load_torch, require_keys

EXPECTED = "a DIET training checkpoint written by train diet --checkpoint-every"
KEYS = ("epoch", "config", "net", "optimizer", "scheduler", "generators", "torch_rng", "extra")
#: TrainConfig fields that may differ between the run that wrote a checkpoint and the resumed one
MAY_DIFFER = ("device",)


@dataclass
class EpochCheckpoint:
    """Where and how often :func:`~lava_thesis.diet.train.train_snn` checkpoints.

    Attributes
    ----------
    path : Path
        The checkpoint file (rewritten in place, atomically).
    every : int
        Write after every ``every``-th epoch (>= 1).
    resume : bool
        Continue from ``path`` when it exists.
    """

    path: Path
    every: int = 1
    resume: bool = False

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.every < 1:
            raise ValueError(f"checkpoint every must be >= 1 epochs, got {self.every}")


def comparable(config: Any) -> dict:
    """The config fields a resumed run must share with its checkpoint."""
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in MAY_DIFFER}


def save(path: Path, *, epoch: int, config: Any, net: torch.nn.Module,
         optimizer: torch.optim.Optimizer, scheduler: Any, generators: list[torch.Generator],
         extra: dict) -> None:
    """Write the state after ``epoch`` epochs (1-based count) atomically."""
    state = {"epoch": epoch, "config": comparable(config),
             "net": {k: v.detach().cpu() for k, v in net.state_dict().items()},
             "optimizer": optimizer.state_dict(),
             "scheduler": None if scheduler is None else scheduler.state_dict(),
             "generators": [g.get_state() for g in generators],
             "torch_rng": torch.get_rng_state(), "extra": extra}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: Path, config: Any) -> dict:
    """The checkpoint at ``path`` for a run with ``config``; raises
    :class:`~lava_thesis.errors.ModelFileError` naming the file (and the first differing field
    when it was written with another configuration)."""
    ckpt = require_keys(path, load_torch(path, EXPECTED), KEYS, EXPECTED)
    mine = comparable(config)
    for key in sorted(set(mine) | set(ckpt["config"])):
        if mine.get(key) != ckpt["config"].get(key):
            raise ModelFileError(path, f"was written with {key}={ckpt['config'].get(key)!r}, "
                                       f"this run has {key}={mine.get(key)!r}", EXPECTED)
    if not isinstance(ckpt["epoch"], int) or not 1 <= ckpt["epoch"] <= config.epochs:
        raise ModelFileError(path, f"epoch {ckpt['epoch']!r} is not in [1, {config.epochs}]",
                             EXPECTED)
    return ckpt
