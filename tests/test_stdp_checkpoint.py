"""STDP training checkpoints: a run killed and resumed ends with the same weights and thetas,
bit for bit, as one never interrupted; a checkpoint of another run is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lava_thesis.errors import ModelFileError
from lava_thesis.stdp import STDPNetwork, STDPParams, trainer
from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.checkpoint import checkpoint_path, save_checkpoint
from lava_thesis.stdp.trainer import CheckpointPlan, fingerprint, train_epochs

HERE = Path(__file__).resolve().parent
# the tuned network at 10 neurons; pruning and quantization every 20 presentations
PARAMS = STDPParams(n_exc=10, exc_dv=0.05, w_inh_exc=60.0)
SEED = 3


def images(n: int, seed: int = 0) -> np.ndarray:
    """``n`` flat 28x28 images: a bar per class at a random offset, plus sparse noise."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 28, 28)) < 0.03).astype(np.uint8) * 120
    for i, c in enumerate(rng.integers(0, 10, n)):
        x[i, 2 * c:2 * c + 8, 4:24] = 200
    return x.reshape(n, -1)


def ramp(total: int, fraction: float = 0.5, levels: int = 4):
    """The experiment's pruning ramp: to ``fraction`` by half of training, ``levels``."""
    return lambda g: (fraction * min(1.0, (g + 1) / max(total // 2, 1)), levels)


def train(x: np.ndarray, n_train: int, epochs: int, plan: CheckpointPlan | None = None,
          seed: int = SEED, params: STDPParams = PARAMS, prune_every: int = 20,
          prune: tuple[float, int] = (0.5, 4)
          ) -> tuple[STDPNetwork, trainer.TrainOutcome, np.random.Generator]:
    """One run as the experiment trains a seed."""
    net = STDPNetwork(params, seed=seed, prune_every=prune_every, threads=1)
    rng = np.random.default_rng(seed)
    out = train_epochs(net, x, n_train, epochs, rng, ramp=ramp(n_train * epochs, *prune),
                       checkpoint=plan, seed=seed, log=lambda _: None)
    return net, out, rng


def assert_same(state: dict, net: STDPNetwork) -> None:
    """``net``'s state is ``state`` (:meth:`STDPNetwork.get_state`), bit for bit."""
    for name, value in state.items():
        np.testing.assert_array_equal(net.get_state()[name], value, err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted() -> dict:
    """2 epochs of 60 of 80 images, never interrupted: the final state, presentations, the
    order generator's state, then responses to 5 other images."""
    net, out, rng = train(images(80), 60, 2)
    return {"state": net.get_state(), "presentations": out.presentations,
            "rng": rng.bit_generator.state, "mask": net.mask,
            "responses": net.responses(images(5, 1))}


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("k", [35, 60, 120])  # mid-epoch, at the epoch's end, at the end
def test_resuming_from_the_checkpoint_at_image_k_equals_the_uninterrupted_run(
        tmp_path, monkeypatch, uninterrupted, k):
    ref = uninterrupted
    save = trainer.save_checkpoint

    def save_then_stop(path, net, ident, *, done, **kw):
        save(path, net, ident, done=done, **kw)
        if done == k:
            raise Interrupted

    path = tmp_path / "run.seed3.ckpt"
    monkeypatch.setattr(trainer, "save_checkpoint", save_then_stop)
    with pytest.raises(Interrupted):
        train(images(80), 60, 2, CheckpointPlan(path, every=k))
    monkeypatch.undo()
    K.seed(12345)  # numba's generator elsewhere: the checkpoint must restore it
    plan = CheckpointPlan(path, every=k, resume=True)
    net, out, rng = train(images(80), 60, 2, plan)
    assert plan.resumed_from == k
    assert ref["presentations"] >= 120 and (ref["mask"].sum(1) == 392).all()  # it pruned
    assert_same(ref["state"], net)
    assert out.presentations == ref["presentations"] and out.seconds > 0
    assert rng.bit_generator.state == ref["rng"]  # the labelling draws come next
    np.testing.assert_array_equal(net.responses(images(5, 1)), ref["responses"])


def test_resume_without_a_checkpoint_trains_from_the_start(tmp_path, uninterrupted):
    plan = CheckpointPlan(tmp_path / "none.ckpt", resume=True)
    net, _, _ = train(images(80), 60, 2, plan)
    assert plan.resumed_from is None and not plan.path.exists()
    assert_same(uninterrupted["state"], net)


CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {here!r})
import test_stdp_checkpoint as t
from lava_thesis.stdp import STDPNetwork
path, marker = Path({path!r}), Path({marker!r})
present = STDPNetwork.present

def present_then_hang(self, image, learn):  # after the first checkpoint, wait to be killed
    out = present(self, image, learn)
    if path.exists() and self.presentations >= 75:
        marker.touch()
        time.sleep(600)
    return out

STDPNetwork.present = present_then_hang
t.train(t.images(300), 300, 1, t.CheckpointPlan(path, every=50))
"""


def test_a_killed_training_resumes_to_the_uninterrupted_result(tmp_path):
    path, marker = checkpoint_path(tmp_path, "kill", SEED), tmp_path / "hanging"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    code = CHILD.format(here=str(HERE), path=str(path), marker=str(marker))
    child = subprocess.Popen([sys.executable, "-c", code], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), child.communicate(timeout=5) if child.poll() is not None else ""
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with np.load(path) as archive:
        assert json.loads(str(archive["meta"]))["done"] == 50
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written checkpoint left
    plan = CheckpointPlan(path, every=50, resume=True)
    resumed, _, _ = train(images(300), 300, 1, plan)
    reference, _, _ = train(images(300), 300, 1)
    assert plan.resumed_from == 50
    np.testing.assert_array_equal(resumed.weights, reference.weights)
    np.testing.assert_array_equal(resumed.theta, reference.theta)
    assert resumed.theta.max() > 0


@pytest.mark.parametrize("change, field", [
    (dict(params=STDPParams(n_exc=12, exc_dv=0.05, w_inh_exc=60.0)), "n_exc"),
    (dict(seed=SEED + 1), "seed"),
    (dict(x=images(81)), "train_images"),
    (dict(n_train=50), "train_samples"),
    (dict(prune_every=10), "prune_every"),
    (dict(prune=(0.3, 4)), "prune_target"),
    (dict(prune=(0.5, 8)), "prune_target"),
])
def test_a_checkpoint_of_another_run_is_refused_naming_file_and_field(tmp_path, change, field):
    x = images(80)
    net = STDPNetwork(PARAMS, seed=SEED, prune_every=20, threads=1)
    path = tmp_path / "other.ckpt"
    save_checkpoint(path, net, fingerprint(net, SEED, x, 60, 1, ramp(60)), done=10, total=60,
                    order=np.arange(60), rng=np.random.default_rng(SEED), seconds=1.0)
    run = dict(x=x, n_train=60, seed=SEED, params=PARAMS, prune_every=20) | change
    with pytest.raises(ModelFileError, match=rf"other\.ckpt: checkpoint of a different run: "
                                             rf"{field} is "):
        train(run.pop("x"), run.pop("n_train"), 1, CheckpointPlan(path, resume=True), **run)


def test_an_unreadable_checkpoint_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "cut.ckpt"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFileError, match=r"cut\.ckpt: unreadable checkpoint"):
        train(images(20), 20, 1, CheckpointPlan(path, resume=True))


TIMING = {"train_seconds", "train_samples_per_s", "eval_samples_per_s"}


def test_an_interrupted_multi_seed_experiment_resumes_per_seed_and_says_so(
        tmp_path, monkeypatch):
    from lava_thesis.experiments import stdp
    from lava_thesis.protocol import Protocol
    from lava_thesis.stdp.model_io import load_model

    x = images(140).reshape(-1, 28, 28)
    train_set, test_set = (x[:120], np.arange(120) % 10), (x[120:], np.arange(20) % 10)
    cfg = stdp.STDPConfig(n_exc=10, assign_samples=50, prune_fraction=0.5, levels=4,
                          prune_interval=20, lava_samples=0)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)

    def run(out: Path, **kw) -> dict:
        stdp.run(train_set, test_set, out, dataset="tiny", config=cfg, experiment="e",
                 protocol=protocol, log=lambda _: None, allow_dirty=True, **kw)
        return json.loads((out / "e.json").read_text())

    reference = run(tmp_path / "ref")
    save = trainer.save_checkpoint

    def save_then_stop(path, net, ident, *, done, **kw):
        save(path, net, ident, done=done, **kw)
        if path.name == "e.seed1.ckpt" and done == 40:
            raise Interrupted

    monkeypatch.setattr(trainer, "save_checkpoint", save_then_stop)
    with pytest.raises(Interrupted):
        run(tmp_path / "cut", checkpoint_every=20)
    assert sorted(p.name for p in (tmp_path / "cut").glob("*.ckpt")) == [
        "e.seed0.ckpt", "e.seed1.ckpt"]  # one per seed; seed 0's is its finished training
    monkeypatch.undo()
    resumed = run(tmp_path / "cut", checkpoint_every=20, resume=True)
    assert reference["config"]["resumed"] is False and resumed["config"]["resumed"] is True
    assert resumed["extra"]["resumed_seeds"] == {"0": 100, "1": 40}
    for key, values in reference["extra"]["per_seed"].items():
        if key not in TIMING:
            assert resumed["extra"]["per_seed"][key] == values, key
    (w0, _, card0), (w1, _, card1) = (load_model(tmp_path / d / "e.h5") for d in ("ref", "cut"))
    np.testing.assert_array_equal(w1.weights, w0.weights)
    np.testing.assert_array_equal(w1.theta, w0.theta)
    assert card1["resumed"] is True and card0["resumed"] is False
    assert not list((tmp_path / "cut").glob("*.ckpt"))  # spent once the run has finished


@pytest.mark.parametrize("args, message", [
    (["quickstart", "--checkpoint-every", "5"], "applies to stdp training without --sweep"),
    (["stdp", "--sweep", "--checkpoint-every", "5"], "applies to stdp training without"),
    (["stdp", "--sweep", "--resume"], "--sweep has no checkpoints"),
])
def test_the_command_line_rejects_checkpoints_where_there_are_none(tmp_path, args, message):
    from typer.testing import CliRunner

    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["train", *args, "--out", str(tmp_path / "out"),
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output, result.output
