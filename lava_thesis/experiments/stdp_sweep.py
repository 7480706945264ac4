"""Method 1's pruning / quantization sweep: accuracy vs. pruned fraction (float weights), then
vs. weight levels at one pruning fraction; the operating point is chosen on validation.

Every setting trains one network per seed of the :class:`~lava_thesis.protocol.Protocol` on the
training images left after the validation split (:func:`lava_thesis.experiments.stdp.run`'s
protocol); each trained network is tested once. The chosen operating point is the most
compressed setting (largest ``area_ratio``) whose mean validation accuracy is within
``tolerance`` of the best mean validation accuracy of the sweep; the test set plays no part in
the choice.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from lava_thesis.experiments.stdp import STDPConfig, split_images, train_and_test
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.protocol import Protocol, check_fraction, or_single_seed
from lava_thesis.results import write_results

SWEEP_FRACTIONS = (0.0, 0.5, 0.75, 0.9)
SWEEP_LEVELS = (2, 4, 8, 16, 0)


def tag(fraction: float, levels: int) -> str:
    """A setting's part of the metric names, e.g. ``pruned50_levels8`` or ``pruned0_float``.

    >>> tag(0.5, 8), tag(0.0, 0)
    ('pruned50_levels8', 'pruned0_float')
    """
    return f"pruned{int(fraction * 100)}_" + (f"levels{levels}" if levels else "float")


def settings(fraction: float) -> list[tuple[float, int]]:
    """The sweep's ``(pruned fraction, levels)`` points: every :data:`SWEEP_FRACTIONS` with
    float weights, then every quantized :data:`SWEEP_LEVELS` at ``fraction``."""
    return ([(f, 0) for f in SWEEP_FRACTIONS]
            + [(fraction, n) for n in SWEEP_LEVELS if n])


def choose(points: dict[str, float], candidates: list[tuple[float, int]],
           tolerance: float) -> tuple[float, int]:
    """The operating point among ``candidates`` ``(pruned fraction, levels)``: the largest
    ``area_ratio_<tag>`` among the settings whose validation accuracy ``v =
    points["val_accuracy_<tag>"]`` satisfies ``v >= max(v) - tolerance``; ties go to the
    higher validation accuracy, then to the earlier candidate.

    >>> pts = {"val_accuracy_pruned0_float": 0.80, "area_ratio_pruned0_float": 1.0,
    ...        "val_accuracy_pruned50_levels8": 0.795, "area_ratio_pruned50_levels8": 21.3,
    ...        "val_accuracy_pruned90_float": 0.60, "area_ratio_pruned90_float": 10.0}
    >>> cands = [(0.0, 0), (0.9, 0), (0.5, 8)]
    >>> choose(pts, cands, 0.01), choose(pts, cands, 0.0)
    ((0.5, 8), (0.0, 0))
    """
    tolerance = float(tolerance)
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0 (an accuracy difference), got {tolerance}")
    if not candidates:
        raise ValueError("choose: no candidate settings")
    val = {c: points[f"val_accuracy_{tag(*c)}"] for c in candidates}
    best = max(val.values())
    ok = [c for c in candidates if val[c] >= best - tolerance]
    return max(ok, key=lambda c: (points[f"area_ratio_{tag(*c)}"], val[c]))


def sweep(train, test, out_dir: str | Path, *, dataset: str, config: STDPConfig,
          experiment: str = "stdp_sweep", log=print, allow_dirty: bool = False,
          protocol: Protocol | None = None, tolerance: float = 0.01) -> dict[str, float]:
    """Train and test every setting of :func:`settings` (``config.prune_fraction`` for the
    levels part) once per seed; choose the operating point on validation (:func:`choose`);
    write one JSON with every point (means over the seeds, per-seed values in ``extra``) and a
    plot. ``protocol`` None: one seed, ``config.seed``, and ``config.val_fraction``.

    Metrics per setting ``<tag>`` (:func:`tag`): ``accuracy_<tag>`` (test),
    ``val_accuracy_<tag>``, ``energy_ratio_<tag>``, ``area_ratio_<tag>``; and the choice:
    ``chosen_prune_fraction``, ``chosen_levels`` (0: float), ``chosen_val_accuracy``,
    ``chosen_accuracy`` (its test accuracy), ``chosen_area_ratio``.
    """
    protocol = or_single_seed(protocol, config.seed, config.val_fraction)
    tolerance = check_fraction(tolerance, "tolerance")
    config = replace(config, seed=protocol.seeds[0])
    fit, val, test_set, info = split_images(train, test, protocol)
    frac = config.prune_fraction
    points_set = settings(frac)

    def one_seed(seed: int) -> dict[str, float]:
        out: dict[str, float] = {}
        for f, levels in points_set:
            name = tag(f, levels)
            if f"accuracy_{name}" in out:
                continue
            log(f"sweep: pruned {f:.0%}, {f'{levels} levels' if levels else 'float weights'}")
            m, _, _ = train_and_test(replace(config, prune_fraction=f, levels=levels,
                                             lava_samples=0), fit, val, test_set, seed, log)
            for key in ("accuracy", "val_accuracy", "energy_ratio", "area_ratio"):
                out[f"{key}_{name}"] = m[key]
        return out

    points, extra = protocol.run(one_seed, log)
    unique = list(dict.fromkeys((f, n) for f, n in points_set))
    chosen_frac, chosen_levels = choose(points, unique, tolerance)
    name = tag(chosen_frac, chosen_levels)
    points.update({"chosen_prune_fraction": chosen_frac, "chosen_levels": chosen_levels,
                   "chosen_val_accuracy": points[f"val_accuracy_{name}"],
                   "chosen_accuracy": points[f"accuracy_{name}"],
                   "chosen_area_ratio": points[f"area_ratio_{name}"]})
    log(f"sweep: chosen on validation: {name} (validation {points['chosen_val_accuracy']:.4f}, "
        f"test {points['chosen_accuracy']:.4f}, area {points['chosen_area_ratio']:.1f}x)")
    out_dir = Path(out_dir)
    plot_sweep(points, frac, out_dir / f"{experiment}.png", per_seed=extra["per_seed"],
               chosen=(chosen_frac, chosen_levels))
    rule = (f"largest area_ratio with mean validation accuracy >= best - {tolerance}")
    write_results(out_dir, experiment, dataset=dataset, metrics=points, method="stdp",
                  config={**asdict(config), "protocol": protocol.as_dict(),
                          "tolerance": tolerance},
                  extra={**extra, "chosen": {"setting": name, "rule": rule}},
                  validation=info,
                  headline=["chosen_accuracy", "chosen_prune_fraction", "chosen_levels"]
                  + [k for k in points if k.startswith("accuracy")],
                  allow_dirty=allow_dirty)
    return points


def plot_sweep(points: dict[str, float], frac: float, path: str | Path, *,
               per_seed: dict[str, list[float]] | None = None,
               chosen: tuple[float, int] | None = None) -> Path:
    """Test accuracy vs. pruned fraction (float) and vs. levels (at ``frac``) from sweep
    points: the mean over seeds with min-max error bars (from ``per_seed``), the validation
    mean dashed, and the chosen operating point starred."""
    from matplotlib.ticker import NullFormatter

    per_seed = per_seed or {}

    def series(ax, xs, names, label, **style):
        mean = [100 * points[f"accuracy_{n}"] for n in names]
        lo = [100 * min(per_seed.get(f"accuracy_{n}", [points[f"accuracy_{n}"]]))
              for n in names]
        hi = [100 * max(per_seed.get(f"accuracy_{n}", [points[f"accuracy_{n}"]]))
              for n in names]
        ax.errorbar(xs, mean, yerr=[np.subtract(mean, lo), np.subtract(hi, mean)],
                    marker="o", capsize=3, label=f"{label} (test, seed min-max)", **style)
        if all(f"val_accuracy_{n}" in points for n in names):
            ax.plot(xs, [100 * points[f"val_accuracy_{n}"] for n in names], ls="--",
                    marker=".", color="gray", label="validation")
        if chosen is not None and tag(*chosen) in names:
            i = names.index(tag(*chosen))
            ax.plot([xs[i]], [mean[i]], marker="*", ms=14, color="C3", ls="none",
                    label="chosen on validation")

    fig = new_figure((9.0, 3.6))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    fr = [f for f in SWEEP_FRACTIONS if f"accuracy_{tag(f, 0)}" in points]
    series(ax1, [100 * f for f in fr], [tag(f, 0) for f in fr], "float")
    ax1.set(xlabel="synapses pruned (%)", ylabel="accuracy (%)", title="float weights")
    lv = [n for n in SWEEP_LEVELS if n and f"accuracy_{tag(frac, n)}" in points]
    series(ax2, lv, [tag(frac, n) for n in lv], "quantized")
    if f"accuracy_{tag(frac, 0)}" in points:
        ax2.axhline(100 * points[f"accuracy_{tag(frac, 0)}"], ls=":", color="k",
                    label="float (test)")
    ax2.set(xscale="log", xlabel="weight levels", ylabel="accuracy (%)",
            title=f"{frac:.0%} pruned")
    ax2.set_xticks(lv, [str(n) for n in lv])
    ax2.xaxis.set_minor_formatter(NullFormatter())
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save_figure(fig, path)
