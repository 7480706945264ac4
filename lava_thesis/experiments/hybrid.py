"""Method 3 experiment: ANN -> conversion (threshold balancing) -> STDB -> netx -> Lava.

``lava-thesis train hybrid`` calls :func:`run`; the demo calls it on the shipped MNIST subset.
The deployed networks are hard-reset (Lava's neuron); ``reset`` chooses the torch SNN's reset.

Evidence protocol (:mod:`lava_thesis.protocol`): a validation split is carved off the training
images; on it the ANN's best epoch, the threshold-balancing percentile and scale, and the best
STDB epoch are chosen, each by the accuracy of the network as it runs in Lava (the netx twin,
spike-count readout). One model is trained per seed; the test set is evaluated once per model,
after all choices. The headline is ``deployed_accuracy_converted`` / ``deployed_accuracy_hybrid``:
the deployed twin on the full test set (seed means). A real Lava run on the first
``lava_samples`` test images of the first seed's networks checks the twin (``agreement_*``,
``spike_match_*``). The torch membrane readouts (``converted_accuracy``, ``hybrid_accuracy``)
are secondary.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from lava_thesis import energy
from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes, netx_output_voltage
from lava_thesis.deploy.nir_export import DT_DEFAULT as NIR_DT
from lava_thesis.diet.ann import ann_predict, build_ann, train_ann
from lava_thesis.diet.energy import energy_from_input
from lava_thesis.diet.model import READOUTS
from lava_thesis.diet.train import predict_output
from lava_thesis.hybrid import HybridSNN
from lava_thesis.hybrid.deploy import lava_twin, twin_output
from lava_thesis.hybrid.evaluate import (
    INPUT_SEED,
    choose_thresholds,
    deployed_accuracy,
    lava_payload,
    step_reduction,
)
from lava_thesis.hybrid.plots import plot_curves
from lava_thesis.hybrid.stdb import STDBConfig, intensities, snn_predict, train_stdb
from lava_thesis.model_check import load_state, load_torch, require_keys, require_range
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.slayer_ext import INPUT_BITS

ANN_EXPECTED = "the ANN state dict a hybrid run wrote (resume)"
STDB_EXPECTED = ("an STDB checkpoint a hybrid run wrote (state_dict, best_state, best_epoch, "
                 "val_per_epoch, seconds)")

DEFAULT_SPEC = ("c16k3s2", "c32k3s2", "f", "d128", "d10")
_PAPER_ACC = ("CIFAR-10 VGG16 91.13%, ResNet20 92.22% at 250 steps; ImageNet 65.19% at "
              "250 steps")
PAPER = {"deployed_accuracy_hybrid": _PAPER_ACC, "hybrid_accuracy": _PAPER_ACC,
         "step_reduction": "10x (250 vs 2500 steps, ImageNet)"}
HEADLINE = ("deployed_accuracy_hybrid", "deployed_accuracy_converted", "step_reduction",
            "step_reduction_at_least", "ann_accuracy", "lava_accuracy_hybrid",
            "agreement_hybrid", "agreement_converted", "spike_match_hybrid",
            "energy_ratio_hybrid")


@dataclass
class HybridConfig:
    """One hybrid run.

    ``eval_samples`` test images (the first ones; None: all) give the accuracy-vs-steps sweeps
    (each point simulates every step); the headline accuracies use the whole test set. The
    thresholds are balanced with each of ``percentiles`` (None: maximum current) and scaled by
    each of ``threshold_scales``; the pair best on validation is kept. ``val_fraction`` is the
    validation share when :func:`run` gets no protocol (then ``stdb.seed`` is the one seed).
    """

    spec: tuple[str, ...] = DEFAULT_SPEC
    ann_epochs: int = 3
    num_steps: int = 25  # the hybrid network's time steps (STDB and deployment)
    balance_steps: int = 100
    balance_images: int = 256
    threshold_scales: tuple[float, ...] = (0.7, 0.5, 0.85, 1.0)
    percentiles: tuple[float | None, ...] = (None, 99.9)
    reset: str = "hard"
    stdb: STDBConfig = field(default_factory=STDBConfig)
    stdb_samples: int | None = None  # training images per STDB epoch (None: all)
    sweep_steps: tuple[int, ...] = (10, 25, 50, 100, 200)
    eval_samples: int | None = 2000
    lava_samples: int = 500
    energy_samples: int = 200
    val_fraction: float = 0.1
    #: the deployed class readout: output spike counts, or the output layer as a non-spiking
    #: integrator (its voltage, the torch network's membrane readout, read from Lava's ``v``)
    readout: str = "spikes"

    def __post_init__(self) -> None:
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")


def _accuracy(pred: np.ndarray, labels: np.ndarray) -> float:
    return float((np.asarray(pred) == np.asarray(labels)).mean())


def train_ann_best(cfg: HybridConfig, seed: int, fit, val, input_shape,
                   ann_path: Path | None, resume: bool, log
                   ) -> tuple[torch.nn.Sequential, dict]:
    """The ANN of one seed at its best validation epoch (``ann_path``: checkpoint / resume)."""
    ann = build_ann(cfg.spec, input_shape)
    if resume and ann_path is not None and ann_path.is_file():
        load_state(ann_path, ann, load_torch(ann_path, ANN_EXPECTED), ANN_EXPECTED)
        log(f"  resumed the ANN from {ann_path}")
        return ann, {"resumed": True, "val_per_epoch": None, "best_epoch": None}
    curve: list[float] = []
    best: dict = {"acc": -1.0}

    def on_epoch(epoch: int, train_acc: float) -> None:
        curve.append(_accuracy(ann_predict(ann, val[0]), val[1]))
        log(f"  ANN epoch {epoch + 1}: train accuracy {train_acc:.3f}, validation "
            f"{curve[-1]:.3f}")
        if curve[-1] > best["acc"]:
            best.update(acc=curve[-1], epoch=epoch + 1, state=copy.deepcopy(ann.state_dict()))

    train_ann(ann, *fit, epochs=cfg.ann_epochs, seed=seed, on_epoch=on_epoch)
    if "state" in best:
        ann.load_state_dict(best["state"])
    if ann_path is not None:
        with atomic_path(ann_path) as tmp:
            torch.save(ann.state_dict(), tmp)
    return ann, {"resumed": False, "val_per_epoch": curve, "best_epoch": best.get("epoch")}


def train_stdb_best(cfg: HybridConfig, seed: int, snn: HybridSNN, fit, val_score: Callable,
                    stdb_path: Path | None, resume: bool, log) -> dict:
    """STDB epochs on ``snn``; keeps the epoch best on validation (``val_score(snn)``) and
    loads it into ``snn``. ``stdb_path``: per-epoch checkpoint that ``resume`` continues."""
    per_epoch: list[float] = []
    best_state, best_epoch, spent, resumed = None, 0, 0.0, False
    if resume and stdb_path is not None and stdb_path.is_file():
        ckpt = require_keys(stdb_path, load_torch(stdb_path, STDB_EXPECTED),
                            ("state_dict", "best_state", "best_epoch", "val_per_epoch",
                             "seconds"), STDB_EXPECTED)
        load_state(stdb_path, snn, ckpt["state_dict"], STDB_EXPECTED)
        require_range(stdb_path, "val_per_epoch accuracies", ckpt["val_per_epoch"], 0, 1,
                      expected=STDB_EXPECTED)
        require_range(stdb_path, "seconds", ckpt["seconds"], 0, expected=STDB_EXPECTED)
        require_range(stdb_path, "best_epoch", ckpt["best_epoch"], 0,
                      len(ckpt["val_per_epoch"]), expected=STDB_EXPECTED)
        per_epoch, spent = list(ckpt["val_per_epoch"]), float(ckpt["seconds"])
        best_state, best_epoch, resumed = ckpt["best_state"], int(ckpt["best_epoch"]), True
        if best_epoch:  # the best epoch's weights must fit the network too
            load_state(stdb_path, copy.deepcopy(snn), best_state, STDB_EXPECTED)
        log(f"  resumed STDB from {stdb_path} ({len(per_epoch)} epochs)")
    (x_fit, y_fit) = fit
    rng = np.random.default_rng(seed)
    for _ in range(len(per_epoch)):  # the sample draws of the resumed epochs
        rng.permutation(len(y_fit))
    t0 = time.perf_counter()
    for epoch in range(len(per_epoch), cfg.stdb.epochs):
        idx = rng.permutation(len(y_fit))[:cfg.stdb_samples or len(y_fit)]
        one = STDBConfig(**{**asdict(cfg.stdb), "epochs": 1, "seed": 1000 * seed + epoch})
        train_stdb(snn, x_fit[idx], y_fit[idx], cfg.num_steps, one)
        per_epoch.append(val_score(snn))
        log(f"  STDB epoch {epoch + 1}: validation accuracy (deployed) {per_epoch[-1]:.4f}")
        if best_state is None or per_epoch[-1] > per_epoch[best_epoch - 1]:
            best_state, best_epoch = copy.deepcopy(snn.state_dict()), epoch + 1
        if stdb_path is not None:  # checkpoint: resume continues from here
            with atomic_path(stdb_path) as tmp:
                torch.save({"state_dict": snn.state_dict(), "best_state": best_state,
                            "best_epoch": best_epoch, "val_per_epoch": per_epoch,
                            "seconds": spent + time.perf_counter() - t0}, tmp)
    seconds = spent + time.perf_counter() - t0  # STDB time, including resumed epochs
    if best_state is not None:
        snn.load_state_dict(best_state)
    return {"val_per_epoch": per_epoch, "best_epoch": best_epoch, "seconds": seconds,
            "resumed": resumed}


def _lava_check(snn: HybridSNN, cfg: HybridConfig, images: np.ndarray, labels: np.ndarray,
                input_shape, net_path: Path) -> dict[str, float]:
    """Export the twin to ``net_path``; with images, run them in Lava and in the twin on the
    same spikes (agreement of the classes, match of every output spike or, with the integrator
    readout, of every final voltage, and Lava's accuracy)."""
    twin = lava_twin(snn, list(cfg.spec), input_shape, readout=cfg.readout)
    twin.export_hdf5(net_path)
    twin.export_nir(net_path.with_suffix(".nir"), dt=NIR_DT)  # IF layers as client CubaLIF
    if len(labels) == 0:
        return {}
    payload = lava_payload(images, cfg.num_steps, twin.delay,
                           torch.Generator().manual_seed(INPUT_SEED))
    out_twin = twin_output(twin, payload)
    if cfg.readout == "integrator":  # the final voltage, as (N, classes, 1)
        out_lava = netx_output_voltage(net_path, payload, input_bits=INPUT_BITS)[..., None]
        out_twin, match = out_twin[..., -1:], "readout_match"
    else:
        out_lava, match = netx_output_spikes(net_path, payload, input_bits=INPUT_BITS), \
            "spike_match"
    lava_classes = predict_output(twin, out_lava)
    return {"agreement": _accuracy(lava_classes, predict_output(twin, out_twin)),
            match: float((out_lava == out_twin).mean()),
            "lava_accuracy": _accuracy(lava_classes, labels)}


def _energy(snn: HybridSNN, cfg: HybridConfig, images: np.ndarray, input_shape,
            name: str) -> dict[str, float]:
    twin = lava_twin(snn, list(cfg.spec), input_shape, readout=cfg.readout)
    pay = lava_payload(images, cfg.num_steps, twin.delay,
                       torch.Generator().manual_seed(INPUT_SEED))
    rep = energy_from_input(twin, torch.from_numpy(pay / 256.0), analog_input=False)
    return {f"{key}_{name}": value for key, value in energy.report_dict(rep).items()}


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    config: HybridConfig | None = None,
    experiment: str = "hybrid",
    model_dir: str | Path | None = None,
    resume: bool = False,
    log=print,
    allow_dirty: bool = False,
    protocol: Protocol | None = None,
) -> dict[str, float]:
    """The whole pipeline, one model per seed of ``protocol`` (None: ``cfg.stdb.seed`` alone,
    validation share ``cfg.val_fraction``); returns the metrics (seed means).

    Writes ``<out_dir>/<experiment>.json`` + plots and, in ``model_dir``, the first seed's ANN
    and STDB checkpoints, converted and hybrid ``.net`` / hybrid ``.pt`` files and a model
    card. ``resume`` reuses the first seed's finished ANN / STDB checkpoints of the same
    experiment (the results file's config then says ``"resumed": true``).
    """
    cfg = config or HybridConfig()
    protocol = or_single_seed(protocol, cfg.stdb.seed, cfg.val_fraction)
    out_dir, model_dir = Path(out_dir), Path(model_dir or out_dir)
    fit, val, info = split_training(*train, protocol)
    if len(val[1]) == 0:
        raise ValueError("the hybrid pipeline chooses thresholds and epochs on a validation "
                         "split: val_fraction must leave at least one training image out")
    x_te, y_te = test
    input_shape = tuple(intensities(fit[0][:1]).shape[1:])
    commit = git_commit()  # the code this run started from
    sweep = sorted(set(cfg.sweep_steps) | {cfg.num_steps})
    n_sweep = len(y_te) if cfg.eval_samples is None else min(cfg.eval_samples, len(y_te))
    n_energy = min(cfg.energy_samples, len(y_te))
    first_seed = protocol.seeds[0]
    nets: dict[str, HybridSNN] = {}
    seed_extra: dict[int, dict] = {}
    energies: dict[int, dict[str, float]] = {}

    def deployed(snn: HybridSNN, images, labels, steps: int) -> float:
        return deployed_accuracy(snn, cfg.spec, input_shape, images, labels, steps,
                                 readout=cfg.readout)

    def one_seed(seed: int) -> dict[str, float]:
        first = seed == first_seed
        torch.manual_seed(seed)
        ann, ann_info = train_ann_best(cfg, seed, fit, val, input_shape,
                                       model_dir / f"{experiment}_ann.pt" if first else None,
                                       resume and first, log)
        converted, choice, table = choose_thresholds(
            ann, cfg.spec, input_shape, reset=cfg.reset, balance_images=fit[0][:cfg.balance_images],
            balance_steps=cfg.balance_steps, val=val, num_steps=cfg.num_steps,
            percentiles=cfg.percentiles, scales=cfg.threshold_scales, seed=seed,
            readout=cfg.readout)
        log(f"  thresholds: percentile {choice['percentile']}, scale {choice['scale']} "
            f"(validation accuracy, deployed: {choice['val_accuracy']:.4f})")
        snn = HybridSNN(ann, converted.thresholds.tolist(), reset=cfg.reset)
        stdb = train_stdb_best(cfg, seed, snn, fit,
                               lambda net: deployed(net, *val, cfg.num_steps),
                               model_dir / f"{experiment}_stdb.pt" if first else None,
                               resume and first and ann_info["resumed"], log)
        # the test set, once per trained model (all choices are made)
        m = {"ann_accuracy": _accuracy(ann_predict(ann, x_te), y_te),
             "val_accuracy_ann": _accuracy(ann_predict(ann, val[0]), val[1]),
             "val_accuracy_converted": choice["val_accuracy"],
             "val_accuracy_hybrid": (stdb["val_per_epoch"][stdb["best_epoch"] - 1]
                                     if stdb["best_epoch"] else choice["val_accuracy"]),
             "stdb_seconds": round(stdb["seconds"], 1)}
        for name, net in (("converted", converted), ("hybrid", snn)):
            m[f"deployed_accuracy_{name}"] = deployed(net, x_te, y_te, cfg.num_steps)
            m[f"{name}_accuracy"] = _accuracy(snn_predict(net, x_te, cfg.num_steps), y_te)
            for t in sweep:
                m[f"deployed_accuracy_{name}_T{t}"] = deployed(net, x_te[:n_sweep],
                                                               y_te[:n_sweep], t)
                m[f"{name}_accuracy_T{t}"] = _accuracy(snn_predict(net, x_te[:n_sweep], t),
                                                       y_te[:n_sweep])
            energies.setdefault(seed, {}).update(_energy(net, cfg, x_te[:n_energy],
                                                         input_shape, name))
        log(f"  seed {seed}: deployed accuracy converted {m['deployed_accuracy_converted']:.4f}"
            f", hybrid {m['deployed_accuracy_hybrid']:.4f} ({len(y_te)} test images)")
        seed_extra[seed] = {"ann": ann_info, "thresholds_choice": choice,
                            "thresholds_candidates": table,
                            "thresholds": snn.thresholds.tolist(),
                            "stdb": {k: stdb[k] for k in ("val_per_epoch", "best_epoch",
                                                          "resumed")}}
        if first:
            nets.update(converted=converted, hybrid=snn)
        return m

    metrics, extra = protocol.run(one_seed, log)
    _add_energy(metrics, extra, energies, protocol.seeds)
    metrics["num_steps"] = cfg.num_steps
    metrics["sweep_samples"] = n_sweep
    metrics.update(step_reduction(
        {t: metrics[f"deployed_accuracy_converted_T{t}"] for t in sweep},
        {t: metrics[f"deployed_accuracy_hybrid_T{t}"] for t in sweep}, cfg.num_steps))
    n_lava = min(cfg.lava_samples, len(y_te))
    metrics["lava_samples"] = n_lava
    for name, net in nets.items():  # the first seed's networks: the files written
        check = _lava_check(net, cfg, x_te[:n_lava], y_te[:n_lava], input_shape,
                            model_dir / f"{experiment}_{name}.net")
        metrics.update({f"{key}_{name}": value for key, value in check.items()})
    if n_lava:
        log(f"  Lava vs. twin on {n_lava} test images (seed {first_seed}): agreement "
            f"converted {metrics['agreement_converted']:.2%}, hybrid "
            f"{metrics['agreement_hybrid']:.2%}")
    with atomic_path(model_dir / f"{experiment}_hybrid.pt") as tmp:
        torch.save({"spec": list(cfg.spec), "input_shape": list(input_shape),
                    "thresholds": nets["hybrid"].thresholds.tolist(), "reset": cfg.reset,
                    "num_steps": cfg.num_steps, "readout": cfg.readout,
                    "state_dict": nets["hybrid"].state_dict()}, tmp)
    plot_curves(out_dir, experiment, dataset, metrics, extra, sweep, seed_extra, cfg.num_steps)
    config = {**asdict(cfg), "protocol": protocol.as_dict(), "resumed": bool(resume)}
    extra = {**extra, "per_seed_details": {str(s): d for s, d in seed_extra.items()},
             "protocol": protocol.as_dict(), "lava_check_seed": first_seed,
             "sweep_steps": sweep}
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="hybrid",
                  config=config, commit=commit, paper=PAPER, extra=extra, validation=info,
                  headline=[k for k in HEADLINE if k in metrics], allow_dirty=allow_dirty)
    card = {"model": f"hybrid conversion + STDB ({cfg.reset} reset IF), netx twin",
            "dataset": dataset, "time_steps": cfg.num_steps, "config": config,
            "metrics": metrics, "thresholds": nets["hybrid"].thresholds.tolist(),
            "seed": first_seed, "protocol": protocol.as_dict(), "validation": info,
            "files": [f"{experiment}_converted.net", f"{experiment}_hybrid.net",
                      f"{experiment}_converted.nir", f"{experiment}_hybrid.nir",
                      f"{experiment}_hybrid.pt", f"{experiment}_ann.pt"],
            # the .nir: the twins, time constants in seconds for this step, output spikes (or
            # the integrator's input currents, "affine") as the readout, input spikes as
            # 255/256, no-leak layers as CubaLIF (zero_decay)
            "nir": {"dt": NIR_DT, "dt_unit": "s",
                    "readout": "affine" if cfg.readout == "integrator" else "spikes",
                    "zero_decay": "cubalif", "input": "binary spikes x 255/256"},
            "command": current_command(), "commit": commit}
    with atomic_open(model_dir / f"{experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics


def _add_energy(metrics: dict, extra: dict, energies: dict[int, dict[str, float]],
                seeds) -> None:
    """Energy metrics every seed has (a ratio is left out where it is not finite): their
    means in ``metrics``, their values in ``extra["per_seed"]``."""
    keys = set.intersection(*(set(energies[s]) for s in seeds))
    for key in sorted(keys):
        values = [float(energies[s][key]) for s in seeds]
        extra["per_seed"][key] = values
        metrics[key] = math.fsum(values) / len(values)
