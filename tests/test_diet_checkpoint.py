"""Per-epoch DIET checkpoints: a run stopped after an epoch and resumed from its checkpoint ends
exactly where an uninterrupted run ends; a checkpoint of another configuration is refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.diet import DietSNN
from lava_thesis.diet.checkpoint import EpochCheckpoint
from lava_thesis.diet.train import TrainConfig
from lava_thesis.errors import ModelFileError
from lava_thesis.experiments.diet import train_best_epoch

SPEC = ["c4k3s2", "f", "d8", "d2"]
# dropout (torch's generator), augmentation (its own) and the cosine schedule all resume
CFG = TrainConfig(epochs=3, batch_size=16, lr=1e-2, dropout=0.2, augment="shift", seed=3)


class Stop(Exception):
    """Stands for the machine going away after an epoch."""


def _data(n: int = 64):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 40, (n, 8, 8)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, :, (0 if y == 0 else 4):(4 if y == 0 else 8)] += 200
    return (images[:48], labels[:48]), (images[48:], labels[48:])


def _net() -> DietSNN:
    torch.manual_seed(0)
    return DietSNN(SPEC, input_shape=(1, 8, 8), thresholds=[0.3, 0.4, 1.0],
                   readout="integrator")


def _stop_after(epoch: int):
    def log(line: str) -> None:
        if line.startswith(f"  DIET epoch {epoch}:"):
            raise Stop
    return log


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    train, val = _data()
    straight = _net()
    torch.manual_seed(7)
    history, best = train_best_epoch(straight, train, val, 4, CFG, log=lambda line: None)

    plan = EpochCheckpoint(tmp_path / "run.ckpt", every=1)
    stopped = _net()
    torch.manual_seed(7)
    with pytest.raises(Stop):  # epoch 2 finishes, its checkpoint is never written
        train_best_epoch(stopped, train, val, 4, CFG, log=_stop_after(2), checkpoint=plan)
    assert plan.path.is_file()
    torch.manual_seed(123)  # whatever the process did since: the checkpoint restores it
    resumed = _net()
    lines: list[str] = []
    history2, best2 = train_best_epoch(resumed, train, val, 4, CFG, log=lines.append,
                                       checkpoint=dataclasses.replace(plan, resume=True))
    assert lines[0].startswith("  resumed DIET after epoch 1")
    assert [line[:14] for line in lines[1:]] == ["  DIET epoch 2", "  DIET epoch 3"]
    assert (history2, best2) == (history, best) and len(history) == 3
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path):
    train, val = _data()
    plan = EpochCheckpoint(tmp_path / "run.ckpt", every=1)
    one = dataclasses.replace(CFG, epochs=1)
    train_best_epoch(_net(), train, val, 4, one, log=lambda line: None, checkpoint=plan)
    other = dataclasses.replace(one, lr=5e-3)
    with pytest.raises(ModelFileError, match=r"run.ckpt: was written with lr=0.01, this run "
                                             r"has lr=0.005"):
        train_best_epoch(_net(), train, val, 4, other, log=lambda line: None,
                         checkpoint=dataclasses.replace(plan, resume=True))
    with pytest.raises(ValueError, match="every"):
        EpochCheckpoint(tmp_path / "x.ckpt", every=0)


def test_resume_without_checkpoints_is_refused_by_the_cli(tmp_path):
    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["train", "diet", "--resume", "--out", str(tmp_path)])
    one_line_error(result, "--resume", "--checkpoint-every")
