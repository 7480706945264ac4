"""Does STDB reach the converted network's accuracy in fewer steps? (``lava-thesis ablate
hybrid``)

The thesis's hybrid method converts an ANN to an SNN (thresholds balanced) and fine-tunes it
with spike-timing-dependent backprop (STDB: the surrogate ``alpha exp(-beta dt)``) so that far
fewer time steps give the accuracy conversion alone needs many steps for. Per seed this
experiment trains one ANN and, everything else equal (data, validation split, epochs, seeds):

* converts it with the **soft** reset (the thesis's; torch network, membrane readout: the
  Lava twin resets hard) and the **hard** reset (Lava's; thresholds chosen on validation);
* fine-tunes the hard-reset conversion for ``stdb.epochs`` epochs with the STDB surrogate
  (``stdb``) and with the linear surrogate (``linear``), and trains the same network from
  random weights with the STDB surrogate (``bptt``: backprop through time without conversion,
  its thresholds balanced on its own random weights by the rule the hard conversion chose,
  :func:`random_start`: the converted thresholds leave random weights silent, and a network
  that never spikes gets no gradient);
* measures each network's deployed accuracy (the fixed-point twin that runs in Lava) at every
  ``T`` of ``sweep_steps`` on the test images with each readout of ``readouts``: output spike
  counts (``deployed_accuracy_<net>_T<t>``) and the output layer as a non-spiking integrator,
  the torch network's own membrane readout with 8-bit weights
  (``deployed_integrator_accuracy_<net>_T<t>``); at ``num_steps`` also its torch accuracy
  (float weights, accumulated membrane readout). Spike counts against integrator separates the
  readout's loss from the 8-bit weights'. The networks are trained and chosen with the
  spike-count readout.

The step reduction at the converted network's accuracy minus ``d`` points (``d`` in
``margins``): ``target = max_T conv(T) - d``; ``T_conv`` and ``T_<variant>`` are the fewest
swept steps reaching it (:func:`~lava_thesis.hybrid.evaluate.steps_to_reach`), and
``step_reduction_<variant>_m<d> = T_conv / T_<variant>``, per seed. A curve that never reaches
the target gets the largest swept ``T`` with ``reached_... = 0`` (a bound, not a value). The
integrator readout's curves give the same keys prefixed ``integrator_`` (against the converted
network's integrator curve).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.diet.ann import ann_predict, build_ann
from lava_thesis.diet.model import READOUTS
from lava_thesis.experiments.hybrid import HybridConfig, train_ann_best, train_stdb_best
from lava_thesis.hybrid import HybridSNN, balance_thresholds
from lava_thesis.hybrid.evaluate import (
    choose_thresholds,
    deployed_accuracies,
    deployed_accuracy,
    steps_to_reach,
)
from lava_thesis.hybrid.snn import weight_layers
from lava_thesis.hybrid.stdb import intensities, snn_predict
from lava_thesis.plots import new_figure, plot_seed_lines, save_figure
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import current_command, git_commit, write_results

CLAIM = ("STDB fine-tuning reaches the converted network's accuracy in far fewer time steps "
         "(Rathi et al., ICLR 2020)")
TRAINED = ("stdb", "linear", "bptt")


@dataclass
class HybridAblationConfig:
    """The shared settings (stored in the results file). ``hybrid`` holds the network, the
    ANN and STDB epochs, the conversion's threshold candidates and ``num_steps`` (the trained
    networks' T); ``eval_samples`` None: the whole test set for every curve."""

    hybrid: HybridConfig = field(default_factory=lambda: HybridConfig(lava_samples=0,
                                                                      eval_samples=None))
    variants: tuple[str, ...] = TRAINED
    sweep_steps: tuple[int, ...] = (5, 10, 25, 50, 100, 200)
    margins: tuple[float, ...] = (0.5, 1.0)  #: accuracy points below the converted best
    readouts: tuple[str, ...] = READOUTS  #: deployed readouts measured (module docstring)

    def __post_init__(self) -> None:
        if unknown := [v for v in self.variants if v not in TRAINED]:
            raise ValueError(f"variants must be among {TRAINED}, got {unknown}")
        if not self.sweep_steps or min(self.sweep_steps) < 1:
            raise ValueError(f"sweep_steps must be >= 1, got {self.sweep_steps}")
        if any(m < 0 for m in self.margins):
            raise ValueError(f"margins must be >= 0 points, got {self.margins}")
        if "spikes" not in self.readouts or any(r not in READOUTS for r in self.readouts):
            raise ValueError(f"readouts must include 'spikes' and be among {READOUTS}, got "
                             f"{self.readouts}")


def margin_key(margin: float) -> str:
    """0.5 -> ``m0.5``, 1.0 -> ``m1``."""
    return f"m{margin:g}"


def reductions(curves: dict[str, dict[int, float]], margins: tuple[float, ...],
               prefix: str = "") -> dict[str, float]:
    """Step counts and reductions of every trained curve against ``curves["converted"]``
    (module docstring); accuracies in [0, 1], margins in points; every key starts with
    ``prefix``.

    >>> r = reductions({"converted": {5: .5, 25: .9, 100: .95}, "stdb": {5: .94, 25: .95,
    ...                 100: .95}}, (1.0,))
    >>> r["steps_converted_m1"], r["steps_stdb_m1"], r["step_reduction_stdb_m1"]
    (100.0, 5.0, 20.0)
    """
    out: dict[str, float] = {}
    converted = curves["converted"]
    for margin in margins:
        target = max(converted.values()) - margin / 100
        name = margin_key(margin)
        for variant, curve in curves.items():
            steps = steps_to_reach(curve, target)
            out[f"{prefix}steps_{variant}_{name}"] = float(steps or max(curve))
            out[f"{prefix}reached_{variant}_{name}"] = float(steps is not None)
        for variant in curves:
            if variant != "converted":
                out[f"{prefix}step_reduction_{variant}_{name}"] = (
                    out[f"{prefix}steps_converted_{name}"]
                    / out[f"{prefix}steps_{variant}_{name}"])
    return out


def random_start(spec, input_shape: tuple[int, ...], images: np.ndarray, balance_steps: int,
                 choice: dict, seed: int) -> HybridSNN:
    """BPTT's starting point: the network with random weights (:func:`build_ann`, drawn from
    the current torch seed), hard reset, STDB surrogate, its thresholds balanced on its own
    activity over ``images`` with ``choice``'s percentile and scale (the rule the hard
    conversion chose on validation), so that it starts as active as the converted network
    and only the weights' origin differs."""
    ann = build_ann(spec, input_shape)
    net = HybridSNN(ann, [1.0] * len(weight_layers(ann)), reset="hard", surrogate="stdb")
    balance_thresholds(net, intensities(images), balance_steps,
                       percentile=choice["percentile"], scale=choice["scale"], seed=seed)
    return net


def run(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
        out_dir: str | Path, *, dataset: str, config: HybridAblationConfig | None = None,
        experiment: str = "ablation_hybrid", log: Callable[[str], Any] = print,
        protocol: Protocol | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Every network of the module docstring, once per seed; writes
    ``<out_dir>/<experiment>.json`` and ``.png`` (deployed accuracy vs T) and returns the
    metrics (seed means)."""
    cfg = config or HybridAblationConfig()
    hcfg = replace(cfg.hybrid, lava_samples=0)
    protocol = or_single_seed(protocol, hcfg.stdb.seed, hcfg.val_fraction)
    commit = git_commit()
    fit, val, info = split_training(*train, protocol)
    if len(val[1]) == 0:
        raise ValueError("the hybrid ablation chooses thresholds and epochs on a validation "
                         "split: val_fraction must leave at least one training image out")
    x_te, y_te = test
    n_eval = len(y_te) if hcfg.eval_samples is None else min(hcfg.eval_samples, len(y_te))
    x_ev, y_ev = x_te[:n_eval], y_te[:n_eval]
    input_shape = tuple(intensities(fit[0][:1]).shape[1:])
    sweep = sorted(set(cfg.sweep_steps) | {hcfg.num_steps})

    def deployed(net: HybridSNN, x, y, steps: int) -> float:
        return deployed_accuracy(net, hcfg.spec, input_shape, x, y, steps)

    def torch_accuracy(net: HybridSNN, x, y, steps: int) -> float:
        return float((snn_predict(net, x, steps) == y).mean())

    def convert(ann, reset: str, seed: int) -> tuple[HybridSNN, dict]:
        score = (None if reset == "hard" else
                 lambda net: torch_accuracy(net, *val, hcfg.num_steps))
        net, choice, _ = choose_thresholds(
            ann, hcfg.spec, input_shape, reset=reset, balance_images=fit[0][:hcfg.balance_images],
            balance_steps=hcfg.balance_steps, val=val, num_steps=hcfg.num_steps,
            percentiles=hcfg.percentiles, scales=hcfg.threshold_scales, seed=seed, score=score)
        log(f"  {reset} reset: thresholds percentile {choice['percentile']}, scale "
            f"{choice['scale']} (validation {choice['val_accuracy']:.4f})")
        return net, choice

    def one_seed(seed: int) -> dict[str, float]:
        torch.manual_seed(seed)
        ann, _ = train_ann_best(hcfg, seed, fit, val, input_shape, None, False, log)
        m: dict[str, float] = {"ann_accuracy": float((ann_predict(ann, x_te) == y_te).mean())}
        (soft, _), (hard, choice) = convert(ann, "soft", seed), convert(ann, "hard", seed)
        thresholds = hard.thresholds.tolist()
        for t in sweep:
            m[f"soft_converted_accuracy_T{t}"] = torch_accuracy(soft, x_ev, y_ev, t)
        nets = {"converted": hard}
        for variant in cfg.variants:
            torch.manual_seed(seed)
            if variant == "bptt":
                net = random_start(hcfg.spec, input_shape, fit[0][:hcfg.balance_images],
                                   hcfg.balance_steps, choice, seed)
                log(f"  bptt: thresholds balanced on the random weights "
                    f"{[round(t, 3) for t in net.thresholds.tolist()]}")
            else:
                net = HybridSNN(ann, thresholds, reset="hard",
                                surrogate="linear" if variant == "linear" else "stdb")
            train_stdb_best(hcfg, seed, net, fit,
                            lambda n: deployed(n, *val, hcfg.num_steps), None, False, log)
            nets[variant] = net
        curves: dict[str, dict[int, float]] = {}
        integrated: dict[str, dict[int, float]] = {}
        readouts = ("spikes", *(r for r in cfg.readouts if r != "spikes"))
        for name, net in nets.items():  # every readout from one run of the hidden layers
            accs = {t: deployed_accuracies(net, hcfg.spec, input_shape, x_ev, y_ev, t,
                                           readouts=readouts) for t in sweep}
            curves[name] = {t: a["spikes"] for t, a in accs.items()}
            if "integrator" in readouts:
                integrated[name] = {t: a["integrator"] for t, a in accs.items()}
            m.update({f"deployed_accuracy_{name}_T{t}": a for t, a in curves[name].items()})
            m[f"torch_accuracy_{name}"] = torch_accuracy(net, x_ev, y_ev, hcfg.num_steps)
            log(f"  seed {seed} {name}: deployed accuracy at T={hcfg.num_steps} "
                f"{curves[name][hcfg.num_steps]:.4f}, torch (membrane readout) "
                f"{m[f'torch_accuracy_{name}']:.4f}")
        m.update(reductions(curves, cfg.margins))
        if integrated:
            for name, curve in integrated.items():
                m.update({f"deployed_integrator_accuracy_{name}_T{t}": a
                          for t, a in curve.items()})
                log(f"  seed {seed} {name}: deployed accuracy at T={hcfg.num_steps} with the "
                    f"integrator readout {curve[hcfg.num_steps]:.4f}")
            m.update(reductions(integrated, cfg.margins, prefix="integrator_"))
        return m

    metrics, extra = protocol.run(one_seed, log)
    metrics.update(eval_samples=n_eval, num_steps=hcfg.num_steps)
    out_dir = Path(out_dir)
    plot_steps(extra["per_seed"], ("converted", *cfg.variants), sweep,
               out_dir / f"{experiment}.png", title=_title(dataset, n_eval))
    headline = [f"step_reduction_{v}_{margin_key(d)}" for d in cfg.margins for v in cfg.variants]
    headline += [f"deployed_accuracy_{n}_T{hcfg.num_steps}" for n in ("converted", *cfg.variants)]
    if "integrator" in cfg.readouts:
        headline += [f"deployed_integrator_accuracy_{n}_T{hcfg.num_steps}"
                     for n in ("converted", *cfg.variants)]
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="hybrid",
                  config={**asdict(cfg), "protocol": protocol.as_dict()}, commit=commit,
                  command=current_command(), validation=info, headline=headline,
                  allow_dirty=allow_dirty, extra={**extra, "claim": CLAIM, "sweep_steps": sweep})
    return metrics


def _title(dataset: str, n_eval: int) -> str:
    return f"hybrid: deployed accuracy vs T, {dataset} ({n_eval} test images)"


def replot(record: dict[str, Any], out_dir: str | Path) -> Path:
    """Redraw ``<out_dir>/<experiment>.png`` from a results file of this ablation, e.g. one
    that :mod:`lava_thesis.merge` joined from seed shards."""
    return plot_steps(record["extra"]["per_seed"],
                      ("converted", *record["config"]["variants"]),
                      list(record["extra"]["sweep_steps"]),
                      Path(out_dir) / f"{record['experiment']}.png",
                      title=_title(record["dataset"], int(record["metrics"]["eval_samples"])))


def plot_steps(per_seed: dict[str, list[float]], names: tuple[str, ...], sweep: list[int],
               path: Path, title: str) -> Path:
    """Deployed accuracy (%) vs T (log axis), one line per network (mean, min-max over seeds),
    and the soft-reset conversion's torch accuracy; with the integrator readout's curves in
    the file, a second panel shows them."""
    panels = [("deployed_accuracy", "spike-count readout")]
    if f"deployed_integrator_accuracy_{names[0]}_T{sweep[0]}" in per_seed:
        panels.append(("deployed_integrator_accuracy", "integrator readout"))
    fig = new_figure((6.0 * len(panels), 4.5 if len(panels) > 1 else 4.0))
    for i, (key, readout) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        lines = {name: 100 * np.array([per_seed[f"{key}_{name}_T{t}"] for t in sweep]).T
                 for name in names}
        lines["converted, soft reset (torch)"] = 100 * np.array(
            [per_seed[f"soft_converted_accuracy_T{t}"] for t in sweep]).T
        plot_seed_lines(ax, sweep, lines, title=title if len(panels) == 1 else readout,
                        xlabel="time steps T", ylabel="accuracy (%)")
        ax.set_xscale("log")
    if len(panels) > 1:
        fig.suptitle(title)
    return save_figure(fig, path)
