"""What pruning removes, and how often (``lava-thesis ablate stdp-prune``).

The thesis prunes the synapses whose pre/post spiking is weakly correlated; under power-law STDP
those end with low weights, so it prunes by weight. This experiment tests that shortcut against
pruning by the correlation itself (:func:`lava_thesis.stdp.core.accumulate_correlation`: the
presynaptic trace summed over each neuron's spikes during training), at several pruned
fractions, and the pruning interval (presentations between pruning events) at one fraction.
Everything else is equal: the same seeds, data, validation split, ramp (the fraction grows to
its target over the first half of training) and float weights (no quantization, so only
pruning differs); :func:`lava_thesis.experiments.stdp.train_and_test` per seed and setting.

Metric names: ``deployed_accuracy_<criterion>_p<percent>`` (the network in Loihi's integers,
whole test set, the headline), ``accuracy_...`` (float engine), ``val_accuracy_...``,
``correlation_minus_weight_p<percent>`` (deployed, paired per seed), and for the interval study
``deployed_accuracy_<criterion>_p<percent>_i<interval>``. The unpruned network
(``deployed_accuracy_unpruned``) is the reference.
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

CLAIM = ("pruning removes synapses with low pre/post spike correlation; pruning by weight "
         "stands in for it (Rathi et al.)")
CRITERIA = ("weight", "correlation")


@dataclass
class PruneAblationConfig:
    """The shared settings (stored in the results file). ``intervals`` are studied at
    ``interval_fraction``; the fraction study uses ``stdp.prune_interval``."""

    criteria: tuple[str, ...] = CRITERIA
    fractions: tuple[float, ...] = (0.5, 0.75, 0.9)
    intervals: tuple[int, ...] = (250, 1000, 4000)
    interval_fraction: float = 0.75
    #: everything else: neurons, epochs, samples, seed, validation share, the default interval
    stdp: STDPConfig = field(default_factory=lambda: STDPConfig(lava_samples=0))

    def __post_init__(self) -> None:
        if unknown := [c for c in self.criteria if c not in CRITERIA]:
            raise ValueError(f"criteria must be among {CRITERIA}, got {unknown}")
        if not self.criteria or not self.fractions or not all(
                0 < f < 1 for f in (*self.fractions, self.interval_fraction)):
            raise ValueError(f"need criteria and fractions in (0, 1), got {self.criteria}, "
                             f"{self.fractions}, {self.interval_fraction}")
        if any(i < 1 for i in self.intervals):
            raise ValueError(f"intervals must be >= 1 presentation, got {self.intervals}")


def percent(fraction: float) -> str:
    """0.75 -> ``p75``."""
    return f"p{int(round(fraction * 100))}"


def key(criterion: str, fraction: float, interval: int | None = None) -> str:
    """``correlation``, 0.75 -> ``correlation_p75``; with an interval ``..._i250``."""
    name = f"{criterion}_{percent(fraction)}"
    return name if interval is None else f"{name}_i{interval}"


def settings(cfg: PruneAblationConfig) -> list[tuple[str, float, int, str]]:
    """Every trained network of one seed, ``(criterion, fraction, interval, metric key)``;
    the interval study reuses the fraction study's network at the default interval."""
    default = cfg.stdp.prune_interval
    out = [(c, f, default, key(c, f)) for f in cfg.fractions for c in cfg.criteria]
    done = {(c, f, default) for c, f, _, _ in out}
    out += [(c, cfg.interval_fraction, i, key(c, cfg.interval_fraction, i))
            for i in cfg.intervals for c in cfg.criteria
            if (c, cfg.interval_fraction, i) not in done]
    return out


def run(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
        out_dir: str | Path, *, dataset: str, config: PruneAblationConfig | None = None,
        experiment: str = "ablation_stdp_prune", log: Callable[[str], Any] = print,
        protocol: Protocol | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """The unpruned network and every setting of :func:`settings`, one network each per seed;
    writes ``<out_dir>/<experiment>.json`` and ``.png`` and returns the metrics (seed
    means)."""
    cfg = config or PruneAblationConfig()
    protocol = or_single_seed(protocol, cfg.stdp.seed, cfg.stdp.val_fraction)
    commit = git_commit()
    fit, val, test_set, info = split_images(train, test, protocol)
    log(f"  validation split: {info['train']} training, {info['val']} validation images")
    default = cfg.stdp.prune_interval

    def one_seed(seed: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        runs = [("weight", 0.0, default, "unpruned"), *settings(cfg)]
        for criterion, fraction, interval, name in runs:
            run_cfg = replace(cfg.stdp, prune_by=criterion, prune_fraction=fraction,
                              prune_interval=interval, levels=0, seed=seed, lava_samples=0)
            m, _, _ = train_and_test(run_cfg, fit, val, test_set, seed, log=lambda line: None)
            for metric in ("deployed_accuracy", "accuracy", "val_accuracy"):
                metrics[f"{metric}_{name}"] = m[metric]
            metrics[f"pruned_fraction_{name}"] = m["pruned_fraction"]
            log(f"  {name}: deployed accuracy {m['deployed_accuracy']:.4f} "
                f"(float {m['accuracy']:.4f})")
        if set(CRITERIA) <= set(cfg.criteria):
            for fraction in cfg.fractions:
                metrics[f"correlation_minus_weight_{percent(fraction)}"] = (
                    metrics[f"deployed_accuracy_{key('correlation', fraction)}"]
                    - metrics[f"deployed_accuracy_{key('weight', fraction)}"])
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    out_dir = Path(out_dir)
    plot_pruning(extra["per_seed"], cfg, out_dir / f"{experiment}.png", title=_title(cfg, dataset))
    headline = ["deployed_accuracy_unpruned",
                *(f"deployed_accuracy_{key(c, f)}" for f in cfg.fractions for c in cfg.criteria)]
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="stdp",
                  config={**asdict(cfg), "protocol": protocol.as_dict()}, commit=commit,
                  command=current_command(), validation=info, headline=headline,
                  allow_dirty=allow_dirty, extra={**extra, "claim": CLAIM})
    return metrics


def _title(cfg: PruneAblationConfig, dataset: str) -> str:
    return f"STDP pruning, {cfg.stdp.n_exc} neurons, {dataset}"


def replot(record: dict[str, Any], out_dir: str | Path) -> Path:
    """Redraw ``<out_dir>/<experiment>.png`` from a results file of this ablation (read by
    :func:`lava_thesis.results.read_results`), e.g. one that :mod:`lava_thesis.merge` joined
    from seed shards, whose shards each drew only their own seeds."""
    config = {k: v for k, v in record["config"].items() if k != "protocol"}
    cfg = PruneAblationConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k != "stdp"},
        stdp=STDPConfig(**config["stdp"]))
    return plot_pruning(record["extra"]["per_seed"], cfg,
                        Path(out_dir) / f"{record['experiment']}.png",
                        title=_title(cfg, record["dataset"]))


def _interval_key(cfg: PruneAblationConfig, criterion: str, interval: int) -> str:
    if interval == cfg.stdp.prune_interval and cfg.interval_fraction in cfg.fractions:
        return key(criterion, cfg.interval_fraction)
    return key(criterion, cfg.interval_fraction, interval)


def plot_pruning(per_seed: dict[str, list[float]], cfg: PruneAblationConfig, path: Path,
                 title: str) -> Path:
    """Deployed accuracy (%) vs pruned fraction and vs pruning interval, one line per
    criterion (mean, min-max over seeds), the unpruned network dashed."""
    fig = new_figure((10.0, 4.0))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)

    def series(keys: list[str]) -> np.ndarray:
        return 100 * np.array([per_seed[f"deployed_accuracy_{k}"] for k in keys]).T

    plot_seed_lines(left, [100 * f for f in cfg.fractions],
                    {c: series([key(c, f) for f in cfg.fractions]) for c in cfg.criteria},
                    xlabel="pruned fraction (%)", ylabel="deployed accuracy (%)", title=title)
    x = np.arange(len(cfg.intervals))
    plot_seed_lines(right, x, {c: series([_interval_key(cfg, c, i) for i in cfg.intervals])
                               for c in cfg.criteria},
                    xticklabels=[str(i) for i in cfg.intervals],
                    xlabel="presentations between pruning events",
                    ylabel="deployed accuracy (%)",
                    title=f"at {100 * cfg.interval_fraction:.0f}% pruned")
    reference = float(np.mean(per_seed["deployed_accuracy_unpruned"])) * 100
    for ax in (left, right):
        ax.axhline(reference, color="grey", linestyle="--", label="unpruned")
        ax.legend()
    return save_figure(fig, path)
