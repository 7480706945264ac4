"""LITE-SNN on event sequences (method 5): a DIET-style convolutional SNN vs a CNN+GRU.

Data: *synthetic N-MNIST-like (generated from MNIST)* event recordings
(:func:`~lava_thesis.lite.events_dataset.synthetic_nmnist`: the first ``n_train`` MNIST
training and ``n_test`` test digits, cached), cut into ``n_bins`` binary event frames. Both
models (:mod:`lava_thesis.lite.events_models`) train with Adam and cross-entropy for at most
``epochs`` epochs *and* at most ``max_train_seconds`` each (checked after every epoch; the
epochs actually run are reported). The test accuracy is the last epoch's (no model selection).
The trained SNN is exported to netx (``.net``, ``.pt``, model card) and its first
``lava_samples`` test sequences run in Lava (``fixed_pt``); ``agreement`` is the fraction of
identical predictions, ``spike_match`` of identical output spikes.

``run(LiteEventsConfig(...))`` writes ``<out_dir>/<experiment>.json`` and ``.png``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes
from lava_thesis.diet.train import TrainConfig, param_groups
from lava_thesis.energy import report_dict, report_table
from lava_thesis.lite.events_dataset import SyntheticEventSet, synthetic_nmnist
from lava_thesis.lite.events_models import (
    INPUT_BITS,
    SNN_SPEC,
    CnnGru,
    baseline_energy,
    binary_frames,
    build_snn,
    calibrate_thresholds,
    snn_energy,
    snn_input,
    snn_payload,
)
from lava_thesis.plots import plot_model_bars
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.training import count_parameters, fit

DATASET = "synthetic N-MNIST-like (generated from MNIST)"
HEADLINE = ("snn_test_accuracy", "gru_test_accuracy", "snn_params", "gru_params",
            "snn_energy_pj", "gru_energy_pj", "lava_agreement")


@dataclass
class LiteEventsConfig:
    """Settings of one run (stored in the results file and the model card)."""

    n_train: int = 10_000
    n_test: int = 2_000
    n_bins: int = 15
    spec: tuple[str, ...] = SNN_SPEC
    gru_hidden: int = 20
    epochs: int = 6
    max_train_seconds: float = 840.0  #: per model; checked after each epoch
    batch_size: int = 32
    lr: float = 1e-3
    lr_threshold: float = 1e-2
    lr_leak: float = 1e-3
    threshold_percentile: float = 99.7
    threshold_scale: float = 0.5
    lava_samples: int = 300
    energy_samples: int = 500
    seed: int = 0
    data_dir: str | None = None
    cache_dir: str | None = None
    out_dir: str = "results"
    model_dir: str = "netx_models/lite_events"
    experiment: str = "lite_events"


def _train(model: torch.nn.Module, forward: Callable, labels: np.ndarray,
           opt: torch.optim.Optimizer, cfg: LiteEventsConfig, name: str, log,
           after_step: Callable[[], None] | None = None) -> tuple[int, float]:
    """Epochs of :func:`fit` until ``cfg.epochs`` or ``cfg.max_train_seconds``; returns
    ``(epochs run, seconds)``. A cosine schedule spans the planned epochs."""
    steps = cfg.epochs * -(-len(labels) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen, t0 = torch.Generator().manual_seed(cfg.seed), time.perf_counter()

    def step() -> None:
        sched.step()
        if after_step is not None:
            after_step()

    for epoch in range(cfg.epochs):
        acc = fit(model, forward, labels, opt, epochs=1, batch_size=cfg.batch_size,
                  generator=gen, after_step=step, desc=name)[0]
        elapsed = time.perf_counter() - t0
        log(f"  {name} epoch {epoch + 1}: train accuracy {acc:.3f} ({elapsed:.0f} s)")
        if elapsed > cfg.max_train_seconds:
            log(f"  {name}: time budget {cfg.max_train_seconds:.0f} s reached")
            return epoch + 1, round(elapsed, 1)
    return cfg.epochs, round(time.perf_counter() - t0, 1)


@torch.no_grad()
def snn_outputs(net: torch.nn.Module, frames: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """Output spikes ``(N, classes, T + delay)`` of the SNN."""
    net.eval()
    return torch.cat([net(snn_input(frames[s:s + batch_size], net.delay))
                      for s in range(0, len(frames), batch_size)]).numpy()


@torch.no_grad()
def gru_predict(model: CnnGru, frames: np.ndarray, batch_size: int = 256) -> np.ndarray:
    model.eval()
    return torch.cat([model(torch.from_numpy(frames[s:s + batch_size].astype(np.float32)))
                      .argmax(1) for s in range(0, len(frames), batch_size)]).numpy()


def run(config: LiteEventsConfig | None = None, *, log=print, command: str | None = None,
        data: tuple[SyntheticEventSet, SyntheticEventSet] | None = None,
        allow_dirty: bool = False) -> dict[str, float]:
    """Build the data, train and evaluate both models, export and run the SNN in Lava, write
    the results JSON, plot and model files; return the metrics. ``data``: ready-made
    ``(train, test)`` recordings (e.g. from the shipped MNIST subset) instead of converting the
    first ``n_train`` / ``n_test`` digits of MNIST in ``data_dir``."""
    cfg, commit = config or LiteEventsConfig(), git_commit()
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    if data is None:
        sets = {split: synthetic_nmnist(split, n, cfg.data_dir, seed=cfg.seed,
                                        cache_dir=cfg.cache_dir)
                for split, n in (("train", cfg.n_train), ("test", cfg.n_test))}
    else:
        sets = dict(zip(("train", "test"), data, strict=True))
    (f_tr, y_tr), (f_te, y_te) = ((binary_frames(d, cfg.n_bins), np.asarray(d.labels))
                                  for d in (sets["train"], sets["test"]))
    log(f"LITE events ({DATASET}): {len(y_tr)} train / {len(y_te)} test sequences, "
        f"{cfg.n_bins} bins, data {time.perf_counter() - t0:.0f} s")
    metrics: dict[str, float] = {"train_samples": len(y_tr), "test_samples": len(y_te),
                                 "event_frame_density": float(f_te.mean())}

    net = build_snn(cfg.spec, f_tr.shape[2:])
    init = calibrate_thresholds(net, snn_input(f_tr[:256], net.delay),
                                cfg.threshold_percentile, cfg.threshold_scale)
    tcfg = TrainConfig(lr=cfg.lr, lr_threshold=cfg.lr_threshold, lr_leak=cfg.lr_leak)
    metrics["snn_epochs"], metrics["snn_train_seconds"] = _train(
        net, lambda idx: (net(snn_input(f_tr[idx], net.delay)).sum(-1), 0.0), y_tr,
        torch.optim.Adam(param_groups(net, tcfg)), cfg, "snn", log, after_step=net.clamp)
    out_torch = snn_outputs(net, f_te)
    pred_torch = out_torch.sum(-1).argmax(1)
    report = snn_energy(net, snn_input(f_te[:cfg.energy_samples], net.delay))
    metrics.update(snn_test_accuracy=float((pred_torch == y_te).mean()),
                   snn_params=count_parameters(net), snn_energy_pj=report.snn_energy_pj,
                   snn_synops=report.synops)
    metrics.update({f"snn_{k}": v for k, v in report_dict(report).items()
                    if k.startswith("spike_rate")})
    learned = {"thresholds": net.thresholds(), "leaks": net.leaks(), "init_thresholds": init}

    torch.manual_seed(cfg.seed)
    gru = CnnGru(cfg.spec, f_tr.shape[2:], cfg.gru_hidden)
    metrics["gru_epochs"], metrics["gru_train_seconds"] = _train(
        gru, lambda idx: (gru(torch.from_numpy(f_tr[idx].astype(np.float32))), 0.0), y_tr,
        torch.optim.Adam(gru.parameters(), lr=cfg.lr), cfg, "gru", log)
    cost = baseline_energy(gru, cfg.n_bins)
    metrics.update(gru_test_accuracy=float((gru_predict(gru, f_te) == y_te).mean()),
                   gru_params=count_parameters(gru), gru_energy_pj=cost["energy_pj"],
                   gru_macs=cost["macs"], energy_ratio=cost["energy_pj"] / report.snn_energy_pj)

    model_dir = Path(cfg.model_dir)
    with atomic_path(model_dir / f"{cfg.experiment}.pt") as tmp:
        torch.save({"spec": list(cfg.spec), "input_shape": list(net.input_shape),
                    "n_bins": cfg.n_bins, "state_dict": net.state_dict()}, tmp)
    net_path = net.export_hdf5(model_dir / f"{cfg.experiment}.net")
    n = min(cfg.lava_samples, len(y_te))
    log(f"  running {n} test sequences in Lava (fixed_pt, events as 8-bit graded spikes)...")
    t1 = time.perf_counter()
    out_lava = netx_output_spikes(net_path, snn_payload(f_te[:n], net.delay),
                                  input_bits=INPUT_BITS)
    pred_lava = out_lava.sum(-1).argmax(1)
    metrics.update(lava_samples=n, lava_seconds=round(time.perf_counter() - t1, 1),
                   lava_accuracy=float((pred_lava == y_te[:n]).mean()),
                   lava_agreement=float((pred_lava == pred_torch[:n]).mean()),
                   lava_spike_match=float((out_lava == out_torch[:n]).mean()),
                   total_seconds=round(time.perf_counter() - t0, 1))
    for i, (theta, leak) in enumerate(zip(learned["thresholds"], learned["leaks"],
                                          strict=True)):
        metrics[f"snn_threshold_layer{i + 1}"], metrics[f"snn_leak_layer{i + 1}"] = theta, leak
    log(f"  SNN {metrics['snn_test_accuracy']:.4f} ({metrics['snn_params']} params, "
        f"{report.snn_energy_pj / 1e6:.3g} µJ) vs CNN+GRU {metrics['gru_test_accuracy']:.4f} "
        f"({metrics['gru_params']} params, {cost['energy_pj'] / 1e6:.3g} µJ); Lava agreement "
        f"{metrics['lava_agreement']:.4f} on {n}")

    out_dir = Path(cfg.out_dir)
    plot_model_bars(metrics, ("snn", "gru"), ("SNN", "CNN+GRU"),
                    out_dir / f"{cfg.experiment}.png", log_energy=True,
                    colors=("tab:blue", "tab:orange"), title=DATASET)
    energy_note = ("45 nm: SNN 0.9 pJ per SynOp (all layers, events are binary input), "
                   "CNN+GRU 4.6 pJ per MAC (convolutions on every frame + GRU + readout)")
    write_results(out_dir, cfg.experiment, dataset=DATASET, metrics=metrics,
                  method="lite",
                  config=asdict(cfg), command=command, commit=commit,
                  headline=[k for k in HEADLINE if k in metrics],
                  extra={"learned": learned, "energy": energy_note,
                         "energy_table": report_table(report),
                         "note": "synthetic events from MNIST, not the N-MNIST recordings"},
                  paper={"snn_test_accuracy": "fewer parameters and lower energy than "
                                              "LSTM/GRU (DVS gesture; accuracy unverified)"},
                  allow_dirty=allow_dirty)
    card = {"model": "LITE event SNN (DIET-style SLAYER CUBA, learnable leak and threshold)",
            "dataset": DATASET, "time_bins": cfg.n_bins, "delay_steps": net.delay,
            "input": "binary event frames (2, 34, 34) per bin as 8-bit graded spikes of 255 "
                     "(x = 255/256), then delay silent steps; class = most output spikes",
            "config": asdict(cfg), "metrics": metrics, "learned": learned,
            "files": [net_path.name, f"{cfg.experiment}.pt"],
            "results": str(out_dir / f"{cfg.experiment}.json"),
            "command": command or current_command(), "commit": commit}
    with atomic_open(model_dir / f"{cfg.experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics
