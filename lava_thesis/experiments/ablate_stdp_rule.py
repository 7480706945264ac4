"""The STDP rule's weight dependence, under quantization (``lava-thesis ablate stdp-rule``).

The thesis uses power-law weight-dependent STDP, ``dw = eta (x - x_tar) (w_max - w)^0.2``, and
argues that it suits networks whose weights take few levels. Loihi's learning engine cannot run a
fractional power; it can run the linear soft bound ``(w_max - w)`` and the hard bound (no weight
dependence, clipped) (:mod:`lava_thesis.stdp.rules`). This experiment trains the same Diehl &
Cook network with each rule, at each number of weight levels (0: float), everything else equal:
the same seeds, data, validation split, schedule and (optional) pruning
(:func:`lava_thesis.experiments.stdp.train_and_test` per seed, rule and levels).

Metric names: ``deployed_accuracy_<rule>_l<levels>`` (the network in Loihi's integers, the
whole test set, the headline), ``accuracy_<rule>_l<levels>`` (float engine),
``val_accuracy_<rule>_l<levels>`` and the paired differences
``power_law_minus_<rule>_l<levels>`` (deployed, same seed), ``<rule>`` with ``_`` for ``-``.
The claim holds where the power law's advantage grows as the levels fall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lava_thesis.experiments.stdp import STDPConfig, split_images, train_and_test
from lava_thesis.plots import new_figure, plot_seed_lines, save_figure
from lava_thesis.protocol import Protocol, or_single_seed
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.stdp.rules import RULES

CLAIM = "power-law weight dependence suits few-level (quantized) weights (Rathi et al.)"


@dataclass
class RuleAblationConfig:
    """The shared settings of every rule and level count (stored in the results file)."""

    rules: tuple[str, ...] = tuple(RULES)
    levels: tuple[int, ...] = (0, 4, 8)
    #: everything else: neurons, epochs, pruning, samples, seed, validation share
    stdp: STDPConfig = field(default_factory=lambda: STDPConfig(lava_samples=0))

    def __post_init__(self) -> None:
        if unknown := [r for r in self.rules if r not in RULES]:
            raise ValueError(f"rules must be among {tuple(RULES)}, got {unknown}")
        if not self.rules or not self.levels or any(lv < 0 or lv == 1 for lv in self.levels):
            raise ValueError(f"need rules and levels of 0 (float) or >= 2, got {self.rules}, "
                             f"{self.levels}")


def key(rule: str, levels: int) -> str:
    """``power-law``, 4 -> ``power_law_l4``."""
    return f"{rule.replace('-', '_')}_l{levels}"


def run(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
        out_dir: str | Path, *, dataset: str, config: RuleAblationConfig | None = None,
        experiment: str = "ablation_stdp_rule", log: Callable[[str], Any] = print,
        protocol: Protocol | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Every rule at every level count, one network each per seed; writes
    ``<out_dir>/<experiment>.json`` and ``.png`` (deployed accuracy vs levels per rule) and
    returns the metrics (seed means)."""
    cfg = config or RuleAblationConfig()
    protocol = or_single_seed(protocol, cfg.stdp.seed, cfg.stdp.val_fraction)
    commit = git_commit()
    fit, val, test_set, info = split_images(train, test, protocol)
    log(f"  validation split: {info['train']} training, {info['val']} validation images")

    def one_seed(seed: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for levels in cfg.levels:
            for rule in cfg.rules:
                run_cfg = replace(cfg.stdp, rule=rule, levels=levels, seed=seed, lava_samples=0)
                m, _, _ = train_and_test(run_cfg, fit, val, test_set, seed,
                                         log=lambda line: None)
                name = key(rule, levels)
                for metric in ("deployed_accuracy", "accuracy", "val_accuracy"):
                    metrics[f"{metric}_{name}"] = m[metric]
                metrics[f"train_seconds_{name}"] = m["train_seconds"]
                log(f"  {levels or 'float'} levels, {rule}: deployed accuracy "
                    f"{m['deployed_accuracy']:.4f} (float {m['accuracy']:.4f})")
            if "power-law" in cfg.rules:
                for rule in (r for r in cfg.rules if r != "power-law"):
                    metrics[f"power_law_minus_{key(rule, levels)}"] = (
                        metrics[f"deployed_accuracy_{key('power-law', levels)}"]
                        - metrics[f"deployed_accuracy_{key(rule, levels)}"])
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    out_dir = Path(out_dir)
    plot_rules(extra["per_seed"], cfg, out_dir / f"{experiment}.png",
               title=f"STDP rule vs weight levels, {cfg.stdp.n_exc} neurons, {dataset}")
    headline = [f"deployed_accuracy_{key(r, lv)}" for lv in cfg.levels for r in cfg.rules]
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="stdp",
                  config={**asdict(cfg), "protocol": protocol.as_dict()}, commit=commit,
                  command=current_command(), validation=info, headline=headline,
                  allow_dirty=allow_dirty, extra={**extra, "claim": CLAIM})
    return metrics


def plot_rules(per_seed: dict[str, list[float]], cfg: RuleAblationConfig, path: Path,
               title: str) -> Path:
    """Deployed accuracy (%) vs weight levels, one line per rule (mean, min-max over seeds)."""
    fig = new_figure()
    lines = {rule: 100 * np.array([per_seed[f"deployed_accuracy_{key(rule, lv)}"]
                                   for lv in cfg.levels]).T  # (seeds, levels)
             for rule in cfg.rules}
    plot_seed_lines(fig.add_subplot(), np.arange(len(cfg.levels)), lines, title=title,
                    xticklabels=[str(lv) if lv else "float" for lv in cfg.levels],
                    xlabel="weight levels", ylabel="deployed accuracy (%)")
    return save_figure(fig, path)
