"""Ablation of DIET-SNN's learned leak and threshold (``lava-thesis ablate diet``).

The thesis credits DIET's low latency to training each layer's leak and threshold with the
weights. This experiment switches each off, *retraining at every T* (not evaluating one T = 5
model at other T), four variants with the same epochs, data and initialisation:

* ``leak+threshold``: both learned (DIET as published);
* ``threshold``: threshold learned, leak fixed at 1.0 (no leak: integrate-and-fire);
* ``leak``: leak learned, threshold fixed at its ANN-based initial value;
* ``neither``: both fixed (a converted network fine-tuned in its weights only);
* ``poisson``: both learned, but rate-coded input (each pixel a Bernoulli spike train of rate
  ``p / 255``) instead of direct input: the thesis' claim that direct input beats rate coding
  at low T (opt-in: not among the default variants). Its energy counts the first layer's input
  spikes as synaptic operations, not MACs.

Per seed, one ANN twin is trained and gives every variant and T the same initial weights and
thresholds (:func:`~lava_thesis.diet.train.threshold_init`). Each variant trains for
``epochs`` epochs at its T and keeps its best validation epoch; the headline is the deployed
accuracy on the full test set (the exported network's fixed-point twin, which Lava computes bit
for bit, see :mod:`lava_thesis.experiments.diet`). Per-layer spike rates and the energy ratio
against the ANN come from :func:`~lava_thesis.diet.energy.energy_report` on ``energy_samples``
test images, without a rate penalty unless ``rate_penalty`` is set. Metric names:
``deployed_accuracy_<variant>_T<t>``, ``energy_ratio_<variant>_T<t>``,
``spike_rate_<layer>_<variant>_T<t>``; paired differences
``learned_minus_<variant>_T<t>`` (same seed).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis import energy
from lava_thesis.diet import DietSNN
from lava_thesis.diet.ann import build_ann, train_ann
from lava_thesis.diet.energy import energy_from_input, energy_report
from lava_thesis.diet.train import (
    TrainConfig,
    as_images,
    load_ann_weights,
    predict_output,
    rate_input,
    snn_output,
    threshold_init,
)
from lava_thesis.experiments.diet import DEFAULT_SPEC, train_best_epoch
from lava_thesis.plots import new_figure, plot_seed_lines, save_figure
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import current_command, git_commit, write_results

#: variant -> (leak learned, threshold learned)
VARIANTS = {"leak+threshold": (True, True), "threshold": (False, True),
            "leak": (True, False), "neither": (False, False), "poisson": (True, True)}
#: the variants run unless asked otherwise (``poisson`` is the separate input-coding claim)
DEFAULT_VARIANTS = ("leak+threshold", "threshold", "leak", "neither")


@dataclass
class DietAblationConfig:
    """The shared settings of every variant (stored in the results file)."""

    spec: tuple[str, ...] = DEFAULT_SPEC
    steps: tuple[int, ...] = (1, 2, 3, 5, 8)
    variants: tuple[str, ...] = DEFAULT_VARIANTS
    ann_epochs: int = 3
    threshold_percentile: float = 99.7
    threshold_scale: float = 0.3
    readout: str = "integrator"
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=4))
    energy_samples: int = 500
    seed: int = 0
    val_fraction: float = 0.1

    def __post_init__(self) -> None:
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise ValueError(f"variants must be among {tuple(VARIANTS)}, got {self.variants}")
        if not self.steps or min(self.steps) < 1:
            raise ValueError(f"steps must be positive, got {self.steps}")


def key(variant: str) -> str:
    """A variant's name inside metric names (``leak+threshold`` -> ``learned``)."""
    return "learned" if variant == "leak+threshold" else variant


def input_of(variant: str) -> str:
    """The input coding a variant trains and is tested with."""
    return "poisson" if variant == "poisson" else "direct"


def _energy(net: DietSNN, images: np.ndarray, num_steps: int, coding: str):
    """:func:`~lava_thesis.diet.energy.energy_report`; for rate-coded input the first layer's
    input spikes are synaptic operations (no analog MACs)."""
    if coding == "direct":
        return energy_report(net, images, num_steps)
    x = rate_input(torch.from_numpy(as_images(images)), num_steps, net.delay,
                   torch.Generator().manual_seed(2))
    return energy_from_input(net, x, analog_input=False)


def ablated_net(variant: str, spec, input_shape, readout: str, ann: torch.nn.Sequential,
                thetas: list[float]) -> DietSNN:
    """A DIET-SNN with ``ann``'s weights and the thresholds ``thetas``, its leaks and/or
    thresholds frozen as ``variant`` says (a frozen leak stays at its initial 1.0)."""
    learn_leak, learn_threshold = VARIANTS[variant]
    net = DietSNN(spec, input_shape, readout=readout)
    load_ann_weights(net, ann, thetas)
    for block in net.weight_blocks:
        if not learn_leak:
            block.neuron.voltage_decay.requires_grad_(False)
        if not learn_threshold:
            block.synapse.pre_hook_fx.log_gain.requires_grad_(False)
    return net


def run(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
        out_dir: str | Path, *, dataset: str, config: DietAblationConfig | None = None,
        experiment: str = "ablation_diet", log: Callable[[str], Any] = print,
        protocol: Protocol | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Every variant at every T, one network each per seed; writes
    ``<out_dir>/<experiment>.json`` and ``<experiment>.png`` (deployed accuracy vs T per
    variant, mean and min-max over seeds) and returns the metrics (seed means)."""
    cfg = config or DietAblationConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0], val_fraction=protocol.val_fraction)
    commit = git_commit()
    (x_tr, y_tr), (x_va, y_va), info = split_training(*train, protocol)
    x_te, y_te = test
    input_shape = as_images(x_tr[:1]).shape[1:]
    log(f"  validation split: {info['train']} training, {info['val']} validation images")

    def one_seed(seed: int) -> dict[str, float]:
        torch.manual_seed(seed)
        ann = build_ann(cfg.spec, input_shape)
        train_ann(ann, x_tr, y_tr, epochs=cfg.ann_epochs, seed=seed,
                  on_epoch=lambda e, a: log(f"  ANN epoch {e + 1}: train accuracy {a:.3f}"))
        thetas = threshold_init(ann, x_tr[:1000], cfg.threshold_percentile, cfg.threshold_scale)
        metrics: dict[str, float] = {}
        for t in cfg.steps:
            for variant in cfg.variants:
                torch.manual_seed(seed)
                net = ablated_net(variant, cfg.spec, input_shape, cfg.readout, ann, thetas)
                t0 = time.perf_counter()
                train_best_epoch(net, (x_tr, y_tr), (x_va, y_va), t,
                                 replace(cfg.train, seed=seed, input=input_of(variant)),
                                 log=lambda line: None)
                net.cpu()
                with tempfile.TemporaryDirectory() as scratch:  # export folds the thresholds
                    net.export_hdf5(Path(scratch) / "net.net")
                acc = float((predict_output(net, snn_output(
                    net, x_te, t, input=input_of(variant))) == y_te).mean())
                report = energy.report_dict(_energy(net, x_te[:cfg.energy_samples], t,
                                                    input_of(variant)))
                name = f"{key(variant)}_T{t}"
                metrics[f"deployed_accuracy_{name}"] = acc
                metrics[f"train_seconds_{name}"] = round(time.perf_counter() - t0, 1)
                for k, v in report.items():
                    if k == "energy_ratio" or k.startswith("spike_rate_"):
                        metrics[f"{k}_{name}"] = v
                metrics.update({f"{kind}_layer{i + 1}_{name}": value
                                for kind, values in (("leak", net.leaks()),
                                                     ("threshold", net.thresholds()))
                                for i, value in enumerate(values)})
                log(f"  T={t} {variant}: deployed accuracy {acc:.4f}, energy ratio "
                    f"{report.get('energy_ratio', float('nan')):.2f}")
            if "leak+threshold" in cfg.variants:  # paired: the same seed, data and start
                for variant in (v for v in cfg.variants if v != "leak+threshold"):
                    metrics[f"learned_minus_{key(variant)}_T{t}"] = (
                        metrics[f"deployed_accuracy_learned_T{t}"]
                        - metrics[f"deployed_accuracy_{key(variant)}_T{t}"])
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    out_dir = Path(out_dir)
    plot_ablation(extra["per_seed"], cfg, out_dir / f"{experiment}.png", title=_title(dataset))
    headline = [f"deployed_accuracy_{key(v)}_T{t}" for t in cfg.steps for v in cfg.variants]
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="diet",
                  config={**asdict(cfg), "protocol": protocol.as_dict()}, commit=commit,
                  command=current_command(), validation=info, headline=headline,
                  allow_dirty=allow_dirty,
                  extra={**extra, "variants": {v: {"leak_learned": VARIANTS[v][0],
                                                   "threshold_learned": VARIANTS[v][1],
                                                   "input": input_of(v)}
                                               for v in cfg.variants},
                         "claim": "learned leak and threshold give low latency (DIET-SNN)"})
    return metrics


def _title(dataset: str) -> str:
    return f"DIET ablation on {dataset} (deployed, retrained at each T)"


def replot(record: dict[str, Any], out_dir: str | Path) -> Path:
    """Redraw ``<out_dir>/<experiment>.png`` from a results file of this ablation, e.g. one
    that :mod:`lava_thesis.merge` joined from shards of seeds and of ``--steps``."""
    cfg = DietAblationConfig(steps=tuple(record["config"]["steps"]),
                             variants=tuple(record["config"]["variants"]))
    return plot_ablation(record["extra"]["per_seed"], cfg,
                         Path(out_dir) / f"{record['experiment']}.png",
                         title=_title(record["dataset"]))


def plot_ablation(per_seed: dict[str, list[float]], cfg: DietAblationConfig, path: Path,
                  title: str) -> Path:
    """Deployed accuracy (%) vs T, one line per variant (mean, min-max band over seeds)."""
    fig = new_figure()
    lines = {variant: 100 * np.array([per_seed[f"deployed_accuracy_{key(variant)}_T{t}"]
                                      for t in cfg.steps]).T  # (seeds, steps)
             for variant in cfg.variants}
    plot_seed_lines(fig.add_subplot(), cfg.steps, lines, title=title,
                    xlabel="time steps T (trained at each)", ylabel="deployed accuracy (%)")
    return save_figure(fig, path)


def parse_steps(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` -> ``(1, 2, 3)``; raises ``ValueError`` on anything else."""
    if not re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", text):
        raise ValueError(f"expected comma-separated positive integers, got {text!r}")
    steps = tuple(int(s) for s in text.split(","))
    if min(steps) < 1:
        raise ValueError(f"time steps must be >= 1, got {text!r}")
    return steps
