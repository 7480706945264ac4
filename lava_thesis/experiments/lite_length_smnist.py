"""LITE-SNN accuracy vs. sequence length, second task (method 5): sequential MNIST.

The sentiment task of :mod:`lava_thesis.experiments.lite_length` did not show the claimed
degradation of vanilla SNNs on long sequences. Here the classic test: each 28x28 MNIST image is
read in raster order as ``T = 784 / k`` chunks of ``k`` pixels (``k`` = 28, 14, 7, 4 ->
``T`` = 28, 56, 112, 196; the same information at every length,
:func:`~lava_thesis.lite.sequential.chunk_pixels`).

Models, all with hidden size 128 and head ``Linear(128->10)`` (:mod:`lava_thesis.lite.sequential`):
``snn`` the vanilla feed-forward LIF SNN read out at the last step of its leaky integrator,
``snn_attn`` the same trunk with attention pooling over time, ``lstm`` an LSTM(k->128) read at
the last step. Every model is trained from the same initialisation (seed) on the same seeded
``train_samples`` training images with Adam and cross-entropy for ``epochs`` epochs at every
length and tested on ``test_samples`` seeded test images; the accuracy is the last epoch's (no
model selection, no tuning per length).

``run(LiteLengthSmnistConfig(...))`` writes ``<out_dir>/<experiment>.json`` (rewritten after
every length) and ``<out_dir>/<experiment>.png`` and returns the metrics
``<model>_accuracy_seq<T>`` (test accuracy in [0, 1]).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis.data.mnist import load_mnist
from lava_thesis.experiments.lite_length import NAMES
from lava_thesis.lite.sequential import SeqAttentionSNN, SeqLSTM, SeqSNN, chunk_pixels
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.results import write_results
from lava_thesis.training import count_parameters, fit

MODELS = ("snn", "snn_attn", "lstm")
NAMES = {**NAMES, "snn": "SNN (last-step readout)"}


@dataclass
class LiteLengthSmnistConfig:
    """Settings of one run (stored in the results file)."""

    chunks: tuple[int, ...] = (28, 14, 7, 4)  #: pixels per step k; T = 784 / k
    train_samples: int = 6000
    test_samples: int = 2000
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
                      for s in range(0, len(x), batch_size)]).numpy()


def plot_length(metrics: dict[str, float], cfg: LiteLengthSmnistConfig,
                path: str | Path) -> Path:
    """Test accuracy (%) vs. sequence length T, one colour per model."""
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    lengths = sorted(784 // k for k in cfg.chunks)
    for i, kind in enumerate(cfg.models):
        points = [(t, 100 * metrics[f"{kind}_accuracy_seq{t}"]) for t in lengths
                  if f"{kind}_accuracy_seq{t}" in metrics]
        if points:
            ax.plot(*zip(*points, strict=True), "o-", color=f"C{i}",
                    label=NAMES.get(kind, kind))
    ax.axhline(10, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("sequence length T (784 / pixels per step)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Sequential MNIST vs. length (H = {cfg.hidden}, {cfg.train_samples} "
                 f"images, {cfg.epochs} epochs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def run(config: LiteLengthSmnistConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Train and evaluate ``config.models`` at every chunk size; write the results JSON and
    plot. ``command`` is recorded in the results (default: this command line)."""
    cfg = config or LiteLengthSmnistConfig()
    rng = np.random.default_rng(cfg.seed)
    x_tr, y_tr = sample(*load_mnist("train", cfg.data_dir), cfg.train_samples, rng)
    x_te, y_te = sample(*load_mnist("test", cfg.data_dir), cfg.test_samples, rng)
    log(f"LITE length (sequential MNIST): {len(y_tr)} train / {len(y_te)} test images")
    metrics: dict[str, float] = {"train_samples": len(y_tr), "test_samples": len(y_te)}
    out_dir = Path(cfg.out_dir)
    for k in cfg.chunks:
        seq_tr = torch.from_numpy(chunk_pixels(x_tr, k))
        seq_te = torch.from_numpy(chunk_pixels(x_te, k))
        tag = f"seq{seq_tr.shape[1]}"
        for kind in cfg.models:
            torch.manual_seed(cfg.seed)
            model = build_model(kind, k, cfg)
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            t0 = time.perf_counter()
            hist = fit(model, lambda idx, m=model, x=seq_tr: (m(x[idx]), 0.0), y_tr, opt,
                       epochs=cfg.epochs, batch_size=cfg.batch_size,
                       generator=torch.Generator().manual_seed(cfg.seed), desc=f"{kind} {tag}")
            metrics[f"{kind}_seconds_{tag}"] = round(time.perf_counter() - t0, 1)
            metrics[f"{kind}_train_accuracy_{tag}"] = hist[-1]  # running, last epoch
            acc = float((predict(model, seq_te) == y_te).mean())
            metrics[f"{kind}_accuracy_{tag}"] = acc
            metrics[f"{kind}_params_{tag}"] = count_parameters(model)
            if kind.startswith("snn"):
                for name in ("lif1", "lif2", "out"):
                    leak = getattr(model, name).leak.clamp(0, 1).item()
                    metrics[f"{kind}_leak_{name}_{tag}"] = leak
            log(f"  T={seq_tr.shape[1]:3d} (k={k:2d}) {kind:8s}: test accuracy {acc:.4f} "
                f"(train {hist[-1]:.3f}, {metrics[f'{kind}_seconds_{tag}']:.0f} s)")
        _write(metrics, cfg, out_dir, command, allow_dirty)
    if not cfg.chunks:
        _write(metrics, cfg, out_dir, command, allow_dirty)
    return metrics


def _write(metrics: dict[str, float], cfg: LiteLengthSmnistConfig, out_dir: Path,
           command: str | None, allow_dirty: bool = False) -> None:
    plot_length(metrics, cfg, out_dir / f"{cfg.experiment}.png")
    headline = [f"{m}_accuracy_seq{784 // k}" for m in cfg.models for k in cfg.chunks]
    write_results(
        out_dir, cfg.experiment, dataset="MNIST (sequential, k pixels per step)",
        metrics=metrics, method="lite", config=asdict(cfg), command=command,
        headline=[key for key in headline if key in metrics],
        extra={"split": f"seeded random {cfg.train_samples} of the 60,000 training and "
                        f"{cfg.test_samples} of the 10,000 test images, seed {cfg.seed}",
               "sequences": "each image in raster order as 784/k chunks of k pixels "
                            "(values / 255), one chunk per time step ('_seq<T>')",
               "models": "; ".join(f"{m}: {NAMES.get(m, m)}, hidden {cfg.hidden}"
                                   for m in cfg.models)},
        paper={"snn_accuracy_seq196": "vanilla SNNs suffer vanishing gradients on long "
                                      "sequences (motivation of the conv SNN with attention); "
                                      "no number given"}, allow_dirty=allow_dirty)
