"""LITE-SNN accuracy vs. sequence length, second task (method 5): sequential MNIST.

The sentiment task of :mod:`lava_thesis.experiments.lite_length` did not show the claimed
degradation of vanilla SNNs on long sequences. Here the classic test: each 28x28 MNIST image is
read in raster order as ``T = 784 / k`` chunks of ``k`` pixels (``k`` = 28, 14, 7, 4 ->
``T`` = 28, 56, 112, 196; the same information at every length,
:func:`~lava_thesis.lite.sequential.chunk_pixels`).

Models, all with hidden size 128 and head ``Linear(128->10)`` (:mod:`lava_thesis.lite.sequential`):
``snn`` the vanilla feed-forward LIF SNN read out at the last step of its leaky integrator,
``snn_attn`` the same trunk with attention pooling over time, ``lstm`` an LSTM(k->128) read at
the last step. Data: a seeded sample of ``train_samples`` training and ``test_samples`` test
images (seeded with the protocol's validation seed: the same images for every model seed); the
protocol's validation split is carved off the training sample
(:func:`~lava_thesis.protocol.split_training`). For every seed of the
:class:`~lava_thesis.protocol.Protocol` each model is trained from the same initialisation
(that seed) with Adam and cross-entropy for ``epochs`` epochs at every length, keeps the weights
of its best validation epoch and is tested once (no tuning per length). The per-seed paired
differences ``snn_minus_lstm_seq<T>`` and ``snn_attn_minus_snn_seq<T>`` compare the models on
the same seed and data.

``run(LiteLengthSmnistConfig(...))`` writes ``<out_dir>/<experiment>.json`` (rewritten after
every seed) and ``<out_dir>/<experiment>.png`` and returns the metrics (seed means)
``<model>_accuracy_seq<T>`` (test accuracy in [0, 1]).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.data.mnist import load_mnist
from lava_thesis.device import resolve_device
from lava_thesis.experiments.lite_length import NAMES, PAIRS, plot_curves
from lava_thesis.experiments.lite_sentiment import BestEpoch, paired_differences
from lava_thesis.lite.sequential import SeqAttentionSNN, SeqLSTM, SeqSNN, chunk_pixels
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.protocol import Protocol, or_single_seed, seed_results, split_training
from lava_thesis.results import git_commit, write_results
from lava_thesis.training import count_parameters, fit

MODELS = ("snn", "snn_attn", "lstm")
NAMES = {**NAMES, "snn": "SNN (last-step readout)"}


@dataclass
class LiteLengthSmnistConfig:
    """Settings of one run (stored in the results file)."""

    chunks: tuple[int, ...] = (28, 14, 7, 4)  #: pixels per step k; T = 784 / k
    train_samples: int = 6000  #: training images sampled, validation included
    test_samples: int = 2000
    val_fraction: float = 0.1  #: validation share of the training sample without protocol
    hidden: int = 128
    attn_dim: int = 32
    models: tuple[str, ...] = MODELS
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    data_dir: str | None = None
    out_dir: str = "results"
    experiment: str = "lite_length_smnist"
    device: str = "cpu"  #: where the models train and run: cpu, cuda, cuda:N or auto


def headline(cfg: LiteLengthSmnistConfig) -> list[str]:
    """Every model's test accuracy at every length, then the paired differences
    (:data:`~lava_thesis.experiments.lite_length.PAIRS`) at the longest sequence."""
    keys = [f"{m}_accuracy_seq{784 // k}" for m in cfg.models for k in cfg.chunks]
    if cfg.chunks:
        longest = 784 // min(cfg.chunks)
        keys += [f"{a}_minus_{b}_seq{longest}" for a, b in PAIRS
                 if a in cfg.models and b in cfg.models]
    return keys


def build_model(kind: str, k: int, cfg: LiteLengthSmnistConfig) -> torch.nn.Module:
    """``"snn"`` -> :class:`SeqSNN`, ``"snn_attn"`` -> :class:`SeqAttentionSNN`,
    ``"lstm"`` -> :class:`SeqLSTM`, each with ``k`` inputs per step."""
    if kind == "snn":
        return SeqSNN(k, cfg.hidden)
    if kind == "snn_attn":
        return SeqAttentionSNN(k, cfg.hidden, attn_dim=cfg.attn_dim)
    if kind == "lstm":
        return SeqLSTM(k, cfg.hidden)
    raise ValueError(f"kind must be one of {MODELS}, got {kind!r}")


def sample(images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of ``min(n, N)`` images without replacement, in drawn order."""
    idx = rng.choice(len(labels), size=min(n, len(labels)), replace=False)
    return images[idx], labels[idx]


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """Predicted classes ``(N,)`` (argmax of the logits)."""
    model.eval()
    return torch.cat([model(x[s:s + batch_size]).argmax(1)
                      for s in range(0, len(x), batch_size)]).cpu().numpy()


def plot_length(metrics: Mapping[str, float], cfg: LiteLengthSmnistConfig, path: str | Path,
                per_seed: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Test accuracy (%) vs. sequence length T, one colour per model: the mean over the seeds
    with their min-max band."""
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    lengths = sorted(784 // k for k in cfg.chunks)
    plot_curves(ax, [(NAMES.get(kind, kind), [(t, f"{kind}_accuracy_seq{t}") for t in lengths],
                      {"marker": "o", "ls": "-", "color": f"C{i}"})
                     for i, kind in enumerate(cfg.models)], metrics, per_seed)
    ax.axhline(10, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("sequence length T (784 / pixels per step)")
    ax.set_ylabel("test accuracy (%)")
    n = len(next(iter(per_seed.values()))) if per_seed else 1
    ax.set_title(f"Sequential MNIST vs. length (H = {cfg.hidden}, {cfg.train_samples} "
                 f"images, {cfg.epochs} epochs, {n} seed{'s' if n > 1 else ''})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def run(config: LiteLengthSmnistConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False,
        protocol: Protocol | None = None) -> dict[str, float]:
    """Train and evaluate ``config.models`` at every chunk size, one model of each per seed of
    ``protocol`` (default: one seed, ``config.seed``, validation share
    ``config.val_fraction``); write the results JSON and plot. ``command`` is recorded in the
    results (default: this command line). Returns the metrics (seed means)."""
    cfg = config or LiteLengthSmnistConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0], val_fraction=protocol.val_fraction)
    commit = git_commit()  # the code the run started from
    dev = resolve_device(cfg.device)
    rng = np.random.default_rng(protocol.val_seed)
    x_all, y_all = sample(*load_mnist("train", cfg.data_dir), cfg.train_samples, rng)
    x_te, y_te = sample(*load_mnist("test", cfg.data_dir), cfg.test_samples, rng)
    (x_tr, y_tr), (x_va, y_va), validation = split_training(x_all, y_all, protocol)
    log(f"LITE length (sequential MNIST): {len(y_tr)} train / {len(y_va)} validation / "
        f"{len(y_te)} test images")
    fixed: dict[str, float] = {"train_samples": len(y_tr), "val_samples": len(y_va),
                               "test_samples": len(y_te)}
    done: dict[str, list[float]] = {}

    def one_seed(seed: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for k in cfg.chunks:
            seq_tr, seq_va, seq_te = (torch.from_numpy(chunk_pixels(x, k)).to(dev)
                                      for x in (x_tr, x_va, x_te))  # on the device once
            tag = f"seq{seq_tr.shape[1]}"
            for kind in cfg.models:
                torch.manual_seed(seed)
                model = build_model(kind, k, cfg).to(dev)
                opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
                best = BestEpoch(model, (lambda m=model, x=seq_va: float(
                    (predict(m, x) == y_va).mean())) if len(y_va) else None)
                t0 = time.perf_counter()
                fit(model, lambda idx, m=model, x=seq_tr: (m(x[idx]), 0.0), y_tr, opt,
                    epochs=cfg.epochs, batch_size=cfg.batch_size,
                    generator=torch.Generator().manual_seed(seed), desc=f"{kind} {tag}",
                    on_epoch=best, device=dev)
                best.restore()
                metrics[f"{kind}_seconds_{tag}"] = round(time.perf_counter() - t0, 1)
                metrics[f"{kind}_best_epoch_{tag}"] = best.best_epoch
                metrics[f"{kind}_train_accuracy_{tag}"] = best.train_history[best.best_epoch - 1]
                if best.best_val_accuracy is not None:
                    metrics[f"{kind}_val_accuracy_{tag}"] = best.best_val_accuracy
                acc = float((predict(model, seq_te) == y_te).mean())
                metrics[f"{kind}_accuracy_{tag}"] = acc
                metrics[f"{kind}_params_{tag}"] = count_parameters(model)
                if kind.startswith("snn"):
                    for name in ("lif1", "lif2", "out"):
                        leak = getattr(model, name).leak.clamp(0, 1).item()
                        metrics[f"{kind}_leak_{name}_{tag}"] = leak
                log(f"  seed {seed} T={seq_tr.shape[1]:3d} (k={k:2d}) {kind:8s}: test accuracy "
                    f"{acc:.4f} (epoch {best.best_epoch}, "
                    f"{metrics[f'{kind}_seconds_{tag}']:.0f} s)")
        metrics.update(paired_differences(metrics, PAIRS,
                                          tuple(f"_seq{784 // k}" for k in cfg.chunks),
                                          lambda m, t: f"{m}_accuracy{t}"))
        for key, value in metrics.items():  # an interrupted run keeps the seeds it finished
            done.setdefault(key, []).append(value)
        n_done = len(next(iter(done.values())))
        partial, extra = seed_results(protocol.seeds[:n_done], done)
        _write({**fixed, **partial}, extra, cfg, protocol, validation, command, commit,
               allow_dirty)
        return metrics

    if cfg.chunks:  # the last seed's file is the final one
        return {**fixed, **protocol.run(one_seed, log)[0]}
    _write(fixed, {"seeds": list(protocol.seeds)}, cfg, protocol, validation, command, commit,
           allow_dirty)
    return fixed


def _write(metrics: dict[str, float], seed_extra: dict[str, Any], cfg: LiteLengthSmnistConfig,
           protocol: Protocol, validation: dict[str, Any], command: str | None, commit: str,
           allow_dirty: bool = False) -> None:
    out_dir = Path(cfg.out_dir)
    plot_length(metrics, cfg, out_dir / f"{cfg.experiment}.png", seed_extra.get("per_seed"))
    write_results(
        out_dir, cfg.experiment, dataset="MNIST (sequential, k pixels per step)",
        metrics=metrics, method="lite", config={**asdict(cfg), "protocol": protocol.as_dict()},
        command=command, commit=commit, validation=validation,
        headline=[key for key in headline(cfg) if key in metrics],
        extra={**seed_extra,
               "split": f"seeded random {cfg.train_samples} of the 60,000 training and "
                        f"{cfg.test_samples} of the 10,000 test images (seed "
                        f"{protocol.val_seed}); validation: {protocol.val_fraction} of the "
                        f"training sample, stratified by label, seed {protocol.val_seed}",
               "selection": "each model keeps the weights of its epoch with the best validation "
                            "accuracy (earliest on ties); the test set is evaluated once per "
                            "model",
               "paired": "<a>_minus_<b>_seq<T>: test accuracy of a minus b per seed (same "
                         "seed, images and split), then the mean over seeds",
               "sequences": "each image in raster order as 784/k chunks of k pixels "
                            "(values / 255), one chunk per time step ('_seq<T>')",
               "models": "; ".join(f"{m}: {NAMES.get(m, m)}, hidden {cfg.hidden}"
                                   for m in cfg.models)},
        paper={"snn_accuracy_seq196": "vanilla SNNs suffer vanishing gradients on long "
                                      "sequences (motivation of the conv SNN with attention); "
                                      "no number given"}, allow_dirty=allow_dirty)
