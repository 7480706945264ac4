"""DIET-SNN against a peer trained side by side (``lava-thesis ablate diet-peer``).

The claim tested: a DIET-SNN that deploys bit-exactly to Loihi (8-bit weights, fixed-point
CUBA dynamics, one step of delay per layer) is as accurate as a peer network that does not have
to deploy. The peer is the same architecture with SpikingJelly's PLIF neurons (Fang et al.
2021: a LIF neuron whose leak is learned through :math:`\\tau = 1 + e^{-w}`), in multi-step mode
(SpikingJelly 2.0's PLIF is plain torch), trained in float32.

Per seed, with the same seeds and the same validation split for both:

* **ours**: the whole DIET pipeline (:func:`lava_thesis.experiments.diet.run`: ANN twin,
  threshold initialisation, DIET epochs, best validation epoch, export, a Lava run on
  ``lava_samples`` test images). Its number is ``deployed_accuracy``, the exported network on
  the full test set as Lava computes it.
* **peer** (:class:`PlifNet`): the spec's layers (:func:`lava_thesis.diet.ann.build_ann`),
  each hidden one followed by a ``ParametricLIFNode`` (threshold 1, hard reset to 0, reset
  detached, sigmoid surrogate: SpikingJelly's defaults for PLIF), direct input (the same
  ``x = p / 256`` on each of T steps), the class score the mean over the T steps of the last
  layer's output (a non-spiking readout, as ours). Trained from random initialisation for as
  many epochs as ours trains in all (ANN epochs + DIET epochs), with the same optimiser
  (Adam, ``train.lr``), cosine schedule, batch size and augmentation, keeping its best
  validation epoch; ``plif_accuracy`` is its float accuracy on the full test set.

``deployed_minus_plif`` is the paired per-seed difference. The peer is a test-only dependency
(``requirements/test-peers.txt``); without it the experiment stops with one line saying so.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.diet.ann import build_ann
from lava_thesis.diet.augment import augment
from lava_thesis.diet.train import as_images, pixels_input
from lava_thesis.experiments.diet import DietConfig
from lava_thesis.experiments.diet import run as run_diet
from lava_thesis.protocol import Protocol, or_single_seed, paired_difference, split_training
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.training import BestEpoch, fit

HEADLINE = ("deployed_accuracy", "plif_accuracy", "deployed_minus_plif", "ann_accuracy",
            "agreement")


def _spikingjelly():
    try:
        from spikingjelly.activation_based import functional, layer, neuron
    except ImportError as err:
        raise RuntimeError(
            "the DIET peer comparison needs SpikingJelly (pip install --no-deps "
            f"spikingjelly==2.0.0 loguru; see requirements/test-peers.txt): {err}") from None
    return functional, layer, neuron


class PlifNet(torch.nn.Module):
    """A DIET spec with SpikingJelly PLIF neurons, multi-step.

    Every weight and pooling layer runs on all steps at once (``SeqToANNContainer``); each
    hidden weight layer is followed by batch normalisation (``batch_norm``, as SpikingJelly's
    examples and the PLIF paper's networks have it; at inference it folds into the weights)
    and a ``ParametricLIFNode``. ``readout="integrator"``: the
    last layer has no neuron and the score is the mean of its output over the steps;
    ``"spikes"``: the last layer has a PLIF neuron too and the score is its spike count.

    Parameters
    ----------
    spec : sequence of str
        DIET layer spec (``c8k3s2``, ``p2``, ``f``, ``d10``, ...).
    input_shape : tuple of int
        ``(C, H, W)``.
    readout : {"integrator", "spikes"}
    v_threshold, init_tau : float
        PLIF threshold and initial time constant.
    batch_norm : bool
        Batch normalisation after each hidden weight layer. Without it, a network trained from
        random weights with threshold 1 and direct input in ``[0, 1)`` can stay silent.

    Shapes: input ``(N, C, H, W, T)`` (as :func:`lava_thesis.diet.train.pixels_input`),
    output ``(N, classes)``.

    Examples
    --------
    >>> net = PlifNet(("c4k3s2", "f", "d10"), (1, 8, 8))
    >>> net(torch.rand(2, 1, 8, 8, 3)).shape
    torch.Size([2, 10])
    """

    def __init__(self, spec: tuple[str, ...], input_shape: tuple[int, int, int], *,
                 readout: str = "integrator", v_threshold: float = 1.0,
                 init_tau: float = 2.0, batch_norm: bool = True) -> None:
        super().__init__()
        if readout not in ("integrator", "spikes"):
            raise ValueError(f"readout must be 'integrator' or 'spikes', got {readout!r}")
        _, layer, neuron = _spikingjelly()
        ann = [m for m in build_ann(spec, input_shape) if not isinstance(m, torch.nn.ReLU)]
        weights = [i for i, m in enumerate(ann) if isinstance(m, (torch.nn.Conv2d,
                                                                  torch.nn.Linear))]
        modules: list[torch.nn.Module] = []
        for i, m in enumerate(ann):
            hidden = i in weights and i != weights[-1]
            norm: list[torch.nn.Module] = []
            if hidden and batch_norm:
                norm = [torch.nn.BatchNorm2d(m.out_channels) if isinstance(m, torch.nn.Conv2d)
                        else torch.nn.BatchNorm1d(m.out_features)]
            modules.append(layer.SeqToANNContainer(m, *norm))
            if hidden or (i in weights and readout == "spikes"):
                modules.append(neuron.ParametricLIFNode(
                    init_tau=init_tau, v_threshold=v_threshold, v_reset=0.0,
                    detach_reset=True, step_mode="m"))
        self.body = torch.nn.Sequential(*modules)
        self.readout = readout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        functional, _, _ = _spikingjelly()
        functional.reset_net(self)
        out = self.body(x.permute(4, 0, 1, 2, 3).contiguous())  # (T, N, classes)
        return out.sum(0) if self.readout == "spikes" else out.mean(0)


@dataclass
class PeerConfig:
    """Settings of the comparison: ``diet`` (our pipeline, whose ``train`` settings the peer
    shares) and the peer's neuron."""

    diet: DietConfig = field(default_factory=DietConfig)
    plif_threshold: float = 1.0
    plif_init_tau: float = 2.0
    plif_batch_norm: bool = True


def plif_accuracy(net: PlifNet, images: np.ndarray, labels: np.ndarray, num_steps: int,
                  batch_size: int = 256) -> float:
    """Accuracy of ``net`` on uint8 ``images`` (direct input, ``num_steps`` steps)."""
    net.eval()
    pixels = torch.from_numpy(as_images(images))
    correct = 0
    with torch.no_grad():
        for s in range(0, len(labels), batch_size):
            scores = net(pixels_input(pixels[s:s + batch_size], num_steps, 0))
            correct += int((scores.argmax(1).numpy() == labels[s:s + batch_size]).sum())
    return correct / max(len(labels), 1)


def train_plif(net: PlifNet, train: tuple[np.ndarray, np.ndarray],
               val: tuple[np.ndarray, np.ndarray], num_steps: int, epochs: int,
               cfg: DietConfig, seed: int, log: Callable[[str], Any] = print
               ) -> tuple[list[float], int]:
    """Adam (``cfg.train.lr``) with the cosine schedule over all steps when
    ``cfg.train.cosine``, ``cfg.train.batch_size``, ``cfg.train.augment``; keeps the epoch with
    the best validation accuracy (the latest on ties; the last without validation data).
    Returns the validation accuracy per epoch and the chosen epoch (1-based)."""
    images, labels = train
    pixels = torch.from_numpy(as_images(images))
    gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.train.lr)
    steps = epochs * -(-len(labels) // cfg.train.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cfg.train.cosine else None
    history: list[float] = []
    best = BestEpoch(epochs)

    def forward(idx: np.ndarray):
        batch = augment(pixels[torch.as_tensor(idx)], cfg.train.augment, aug_gen)
        return net(pixels_input(batch, num_steps, 0)), 0.0

    def on_epoch(epoch: int, train_acc: float) -> None:
        line = f"  PLIF epoch {epoch + 1}: train accuracy {train_acc:.3f}"
        if len(val[1]):
            history.append(plif_accuracy(net, *val, num_steps))
            line += f", validation {history[-1]:.3f}"
            best.offer(epoch + 1, history[-1], net)
        log(line)

    fit(net, forward, labels, opt, epochs=epochs, batch_size=cfg.train.batch_size,
        generator=gen, after_step=None if sched is None else sched.step, on_epoch=on_epoch,
        desc="PLIF")
    best.restore(net)
    return history, best.epoch


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    config: PeerConfig | None = None,
    experiment: str = "ablation_diet_peer",
    log: Callable[[str], Any] = print,
    protocol: Protocol | None = None,
    allow_dirty: bool = False,
) -> dict[str, float]:
    """Train ours and the peer for every seed of ``protocol``; write
    ``<out_dir>/<experiment>.json``. Returns the metrics (means over the seeds; per-seed
    values in the file's ``extra.per_seed``): ours (``deployed_accuracy``, ``ann_accuracy``,
    ``agreement`` with Lava, ``train_seconds``), the peer (``plif_accuracy``,
    ``plif_val_accuracy``, ``plif_best_epoch``, ``plif_train_seconds``, ``plif_params``) and
    ``deployed_minus_plif``."""
    _spikingjelly()  # fail before the long half, not after it
    cfg = config or PeerConfig()
    protocol = or_single_seed(protocol, cfg.diet.train.seed, cfg.diet.val_fraction)
    commit = git_commit()
    with tempfile.TemporaryDirectory() as scratch:
        log("ours: the DIET pipeline")
        run_diet(train, test, scratch, dataset=dataset, config=cfg.diet, experiment="diet",
                 log=log, protocol=protocol, allow_dirty=True)
        ours = json.loads((Path(scratch) / "diet.json").read_text())["extra"]["per_seed"]
    (x_tr, y_tr), (x_va, y_va), info = split_training(*train, protocol)
    x_te, y_te = test
    input_shape = as_images(x_tr[:1]).shape[1:]
    epochs = cfg.diet.ann_epochs + cfg.diet.train.epochs

    def one_seed(seed: int) -> dict[str, float]:
        torch.manual_seed(seed)
        net = PlifNet(cfg.diet.spec, input_shape, v_threshold=cfg.plif_threshold,
                      init_tau=cfg.plif_init_tau, batch_norm=cfg.plif_batch_norm)
        t0 = time.perf_counter()
        curve, best_epoch = train_plif(net, (x_tr, y_tr), (x_va, y_va), cfg.diet.num_steps,
                                       epochs, cfg.diet, seed, log)
        seconds = time.perf_counter() - t0
        acc = plif_accuracy(net, x_te, y_te, cfg.diet.num_steps)
        log(f"  seed {seed}: PLIF test accuracy {acc:.4f} (best epoch {best_epoch})")
        return {"plif_accuracy": acc, "plif_val_accuracy": max(curve) if curve else acc,
                "plif_best_epoch": best_epoch, "plif_train_seconds": round(seconds, 1),
                "plif_params": sum(p.numel() for p in net.parameters())}

    log(f"peer: SpikingJelly PLIF, {epochs} epochs")
    _, peer = protocol.run(one_seed, log)
    keep = ("deployed_accuracy", "ann_accuracy", "agreement", "lava_samples", "train_seconds",
            "val_accuracy", "best_epoch", "energy_ratio")
    per_seed = {k: ours[k] for k in keep if k in ours} | peer["per_seed"]
    per_seed["deployed_minus_plif"] = paired_difference(
        ours["deployed_accuracy"], peer["per_seed"]["plif_accuracy"])["per_seed"]
    metrics = {k: float(np.mean(v)) for k, v in per_seed.items()}
    log(f"deployed DIET {metrics['deployed_accuracy']:.4f} vs PLIF "
        f"{metrics['plif_accuracy']:.4f} (mean of {len(protocol.seeds)} seeds)")
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="diet",
                  command=current_command(), commit=commit, validation=info,
                  config={**asdict(cfg), "protocol": protocol.as_dict(),
                          "plif_epochs": epochs},
                  extra={"seeds": list(protocol.seeds), "per_seed": per_seed},
                  headline=[k for k in HEADLINE if k in metrics],
                  paper={"plif_accuracy": "PLIF (Fang et al. 2021): MNIST 99.72%, "
                                          "Fashion-MNIST 94.38% at T=8"},
                  allow_dirty=allow_dirty)
    return metrics
