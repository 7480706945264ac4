"""Figures of the hybrid experiment: seed means with their min-max spread.

* ``<experiment>_accuracy_vs_steps.png``: deployed (netx twin) accuracy against time steps
  ``T`` for the converted and the STDB-tuned network, the ANN's test accuracy for reference.
* ``<experiment>_accuracy_vs_epoch.png``: the STDB network's deployed validation accuracy after
  each epoch (what chose the best epoch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lava_thesis.plots import new_figure, save_figure


def _band(ax, x: Sequence[float], per_seed: np.ndarray, label: str) -> None:
    """Mean over seeds (rows) with a min-max band (drawn when there are several seeds)."""
    mean = per_seed.mean(0)
    line = ax.plot(x, 100 * mean, marker="o", label=f"{label} (mean of {len(per_seed)})")[0]
    if len(per_seed) > 1:
        ax.fill_between(x, 100 * per_seed.min(0), 100 * per_seed.max(0), alpha=0.2,
                        color=line.get_color(), linewidth=0)


def plot_curves(out_dir: Path, experiment: str, dataset: str, metrics: Mapping[str, float],
                extra: Mapping, sweep: Sequence[int], seed_extra: Mapping[int, Mapping],
                num_steps: int) -> None:
    """Write both figures from the results file's ``metrics`` / ``extra["per_seed"]`` and the
    per-seed details (``seed_extra[seed]["stdb"]["val_per_epoch"]``)."""
    per_seed = extra["per_seed"]
    fig = new_figure()
    ax = fig.add_subplot()
    for name, label in (("converted", "conversion"),
                        ("hybrid", f"hybrid (STDB at T={num_steps})")):
        values = np.array([per_seed[f"deployed_accuracy_{name}_T{t}"] for t in sweep]).T
        _band(ax, list(sweep), values, label)
    ax.axhline(100 * metrics["ann_accuracy"], color="gray", linestyle="--", label="ANN")
    ax.set(xlabel="time steps T", ylabel="deployed accuracy (%)")
    ax.set_title(f"Conversion vs. hybrid on {dataset}\nLava twin, "
                 f"{int(metrics['sweep_samples'])} test images; band: min-max over seeds",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, out_dir / f"{experiment}_accuracy_vs_steps.png")
    curves = [list(d["stdb"]["val_per_epoch"]) for d in seed_extra.values()]
    if not curves or not curves[0] or len({len(c) for c in curves}) != 1:
        return
    fig = new_figure()
    ax = fig.add_subplot()
    _band(ax, list(range(1, len(curves[0]) + 1)), np.array(curves), "STDB")
    ax.set(xlabel="STDB epoch", ylabel="validation accuracy, deployed (%)",
           title=f"STDB fine-tuning at T={num_steps}")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, out_dir / f"{experiment}_accuracy_vs_epoch.png")
