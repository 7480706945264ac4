"""LITE-SNN on event sequences (method 5): a DIET-style convolutional SNN vs a CNN+GRU and a
ConvLSTM.

Data: *synthetic N-MNIST-like (generated from MNIST)* event recordings
(:func:`~lava_thesis.lite.events_dataset.synthetic_nmnist`: the first ``n_train`` MNIST
training and ``n_test`` test digits, cached), cut into ``n_bins`` binary event frames. The
protocol's validation split (:func:`~lava_thesis.protocol.split_training`, stratified) is
carved off the training recordings; the models train on the rest.

Per seed of the :class:`~lava_thesis.protocol.Protocol` (the SNN and the baselines share the
seed: a paired comparison), the three models (:mod:`lava_thesis.lite.events_models`) train
with Adam,
cross-entropy and a cosine schedule for ``epochs`` epochs; after each epoch the validation
accuracy is measured and the weights of the best epoch (ties: the earlier) are kept. Then the
test set is evaluated once per model:

* ``deployed_accuracy`` (the headline): the SNN *as it runs in Lava*: its fixed-point SLAYER
  network (8-bit weights, the same blocks netx exports) fed the Lava payload (events as 8-bit
  graded spikes of 255, i.e. ``255/256``, then ``delay`` silent steps), class = the largest
  score of its readout (``readout``: the integrator's final voltage, default, or the output
  neuron with most spikes), on the full test set;
* ``snn_test_accuracy`` / ``gru_test_accuracy`` / ``convlstm_test_accuracy``: the torch
  models on the training input path (for the SNN the same network, so it equals
  ``deployed_accuracy`` unless the two input paths diverge);
  ``snn_minus_gru = deployed_accuracy - gru_test_accuracy`` and ``snn_minus_convlstm``
  (likewise) per seed, and ``snn_minus_best_baseline`` against the better of the two.

The first seed's SNN is exported to netx (``.net``, ``.pt``, model card) and its first
``lava_samples`` test sequences run in Lava (``fixed_pt``): ``lava_agreement`` is the fraction
of predictions identical to the torch twin's, ``lava_readout_match`` of identical final
voltages (integrator readout) or ``lava_spike_match`` of identical output spikes.

``run(LiteEventsConfig(...))`` writes ``<out_dir>/<experiment>.json`` and ``.png``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes, netx_output_voltage
from lava_thesis.deploy.nir_export import DT_DEFAULT as NIR_DT
from lava_thesis.device import resolve_device
from lava_thesis.diet.model import READOUTS
from lava_thesis.diet.train import TrainConfig, param_groups, predict_output
from lava_thesis.energy import report_dict, report_table
from lava_thesis.hybrid.deploy import twin_output
from lava_thesis.lite.events_dataset import SyntheticEventSet, synthetic_nmnist
from lava_thesis.lite.events_models import (
    INPUT_BITS,
    SNN_SPEC,
    CnnGru,
    ConvLstm,
    baseline_energy,
    binary_frames,
    build_snn,
    calibrate_thresholds,
    convlstm_energy,
    snn_energy,
    snn_input,
    snn_payload,
)
from lava_thesis.plots import plot_model_bars
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.training import count_parameters, fit

DATASET = "synthetic N-MNIST-like (generated from MNIST)"
HEADLINE = ("deployed_accuracy", "snn_test_accuracy", "gru_test_accuracy",
            "convlstm_test_accuracy", "snn_minus_gru", "snn_minus_convlstm",
            "snn_minus_best_baseline", "snn_params", "gru_params", "convlstm_params",
            "snn_energy_pj", "gru_energy_pj", "convlstm_energy_pj", "lava_agreement")
#: the Lava check on the first seed's exported SNN (not averaged over seeds)
LAVA_KEYS = ("lava_samples", "lava_seconds", "lava_accuracy", "deployed_accuracy_lava_subset",
             "lava_agreement", "lava_readout_match", "lava_spike_match")


@dataclass
class LiteEventsConfig:
    """Settings of one run (stored in the results file and the model card)."""

    n_train: int = 10_000
    n_test: int = 2_000
    n_bins: int = 15
    spec: tuple[str, ...] = SNN_SPEC
    gru_hidden: int = 20
    convlstm_hidden: int = 24  #: ConvLSTM hidden channels (59,946 parameters on the default spec)
    #: the SNN's class score: "integrator" (a non-spiking output layer's final voltage, the
    #: readout over the whole window) or "spikes" (output spike counts)
    readout: str = "integrator"
    epochs: int = 6  #: per model; the best epoch on the validation split is kept
    batch_size: int = 32
    lr: float = 1e-3
    lr_threshold: float = 1e-2
    lr_leak: float = 1e-3
    threshold_percentile: float = 99.7
    threshold_scale: float = 0.5
    lava_samples: int = 500
    energy_samples: int = 500
    seed: int = 0
    val_fraction: float = 0.1  #: used when ``run`` gets no protocol
    data_dir: str | None = None
    cache_dir: str | None = None
    #: where both models train: cpu, cuda, cuda:N or auto; the trained SNN returns to the
    #: CPU for its fixed-point twin, the energy count, the export and Lava
    device: str = "cpu"
    out_dir: str = "results"
    model_dir: str = "netx_models/lite_events"
    experiment: str = "lite_events"


def _train(model: torch.nn.Module, forward: Callable, labels: np.ndarray,
           opt: torch.optim.Optimizer, cfg: LiteEventsConfig, seed: int, name: str, log,
           validate: Callable[[], float] | None,
           after_step: Callable[[], None] | None = None,
           device: torch.device | None = None) -> tuple[dict[str, float], list[float]]:
    """``cfg.epochs`` epochs of :func:`fit` (cosine schedule over all of them); after each,
    ``validate()`` gives the validation accuracy and the best epoch's weights (ties: the
    earlier) are restored at the end. Without a validation set (``validate`` None) the last
    epoch is kept. Returns ``({"epochs", "best_epoch", "val_accuracy", "train_seconds"},
    validation accuracy per epoch)``."""
    steps = cfg.epochs * -(-len(labels) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen, t0 = torch.Generator().manual_seed(seed), time.perf_counter()

    def step() -> None:
        sched.step()
        if after_step is not None:
            after_step()

    curve: list[float] = []
    best_acc, best_epoch, best_state = -1.0, cfg.epochs, None
    for epoch in range(cfg.epochs):
        acc = fit(model, forward, labels, opt, epochs=1, batch_size=cfg.batch_size,
                  generator=gen, after_step=step, desc=name, device=device)[0]
        line = f"  {name} epoch {epoch + 1}: train accuracy {acc:.3f}"
        if validate is not None:
            curve.append(validate())
            line += f", validation {curve[-1]:.3f}"
            if curve[-1] > best_acc:
                best_acc, best_epoch = curve[-1], epoch + 1
                best_state = copy.deepcopy(model.state_dict())
        log(f"{line} ({time.perf_counter() - t0:.0f} s)")
    if best_state is not None:
        model.load_state_dict(best_state)
    stats = {"epochs": cfg.epochs, "best_epoch": best_epoch,
             "train_seconds": round(time.perf_counter() - t0, 1)}
    if validate is not None:
        stats["val_accuracy"] = best_acc
    return stats, curve


@torch.no_grad()
def snn_outputs(net: torch.nn.Module, frames: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """Output spikes ``(N, classes, T + delay)`` of the SNN on the training input path (on
    the SNN's device)."""
    net.eval()
    dev = next(net.parameters()).device
    return torch.cat([net(snn_input(frames[s:s + batch_size], net.delay).to(dev))
                      for s in range(0, len(frames), batch_size)]).cpu().numpy()


def deployed_outputs(net: torch.nn.Module, frames: np.ndarray, batch_size: int = 128
                     ) -> np.ndarray:
    """Output spikes ``(N, classes, T + delay)`` of the fixed-point SLAYER twin fed the exact
    payload Lava gets (:func:`~lava_thesis.lite.events_models.snn_payload` / 256)."""
    return np.concatenate([twin_output(net, snn_payload(frames[s:s + batch_size], net.delay))
                           for s in range(0, len(frames), batch_size)])


def spike_count_class(spikes: np.ndarray) -> np.ndarray:
    """Lava's readout: the output neuron with most spikes over the window (ties: lowest index),
    ``argmax_c sum_t s[n, c, t]``."""
    return spikes.sum(-1).argmax(1)


@torch.no_grad()
def gru_predict(model: CnnGru | ConvLstm, frames: np.ndarray, batch_size: int = 256
                ) -> np.ndarray:
    """Predicted classes of a baseline, the CNN+GRU or the ConvLSTM (on its device)."""
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat([model(torch.from_numpy(frames[s:s + batch_size].astype(np.float32))
                            .to(dev)).argmax(1)
                      for s in range(0, len(frames), batch_size)]).cpu().numpy()


_READOUT_TEXT = {"integrator": "the largest final voltage of the non-spiking output layer",
                 "spikes": "the output neuron with most spikes"}


def _load(cfg: LiteEventsConfig, data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if data is None:
        sets = [synthetic_nmnist(split, n, cfg.data_dir, seed=cfg.seed, cache_dir=cfg.cache_dir)
                for split, n in (("train", cfg.n_train), ("test", cfg.n_test))]
    else:
        sets = list(data)
    (f_tr, y_tr), (f_te, y_te) = ((binary_frames(d, cfg.n_bins), np.asarray(d.labels))
                                  for d in sets)
    return f_tr, y_tr, f_te, y_te


def run(config: LiteEventsConfig | None = None, *, log=print, command: str | None = None,
        data: tuple[SyntheticEventSet, SyntheticEventSet] | None = None,
        allow_dirty: bool = False, protocol: Protocol | None = None) -> dict[str, float]:
    """Build the data, train and evaluate both models once per seed, export the first seed's
    SNN and run it in Lava, write the results JSON, plot and model files; return the metrics
    (means over the seeds; the Lava check is the first seed's). ``data``: ready-made
    ``(train, test)`` recordings (e.g. from the shipped MNIST subset) instead of converting the
    first ``n_train`` / ``n_test`` digits of MNIST in ``data_dir``. ``protocol``: seeds and
    validation split (default: the config's seed and ``val_fraction``)."""
    cfg, commit = config or LiteEventsConfig(), git_commit()
    if cfg.readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {cfg.readout!r}")
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    dev = resolve_device(cfg.device)
    t0 = time.perf_counter()
    f_tr, y_tr, f_te, y_te = _load(cfg, data)
    (f_fit, y_fit), (f_val, y_val), info = split_training(f_tr, y_tr, protocol)
    log(f"LITE events ({DATASET}): {len(y_fit)} train + {len(y_val)} validation / "
        f"{len(y_te)} test sequences, {cfg.n_bins} bins, seeds {list(protocol.seeds)}, data "
        f"{time.perf_counter() - t0:.0f} s")
    shared = {"train_samples": len(y_fit), "val_samples": len(y_val),
              "test_samples": len(y_te), "event_frame_density": float(f_te.mean())}
    curves: dict[str, dict[str, list[float]]] = {}
    first: dict[str, Any] = {}

    def accuracy(pred: np.ndarray, labels: np.ndarray) -> float:
        return float((pred == labels).mean())

    def one_seed(seed: int) -> dict[str, float]:
        torch.manual_seed(seed)
        net = build_snn(cfg.spec, f_tr.shape[2:], cfg.readout)
        init = calibrate_thresholds(net, snn_input(f_fit[:256], net.delay),
                                    cfg.threshold_percentile, cfg.threshold_scale)
        tcfg = TrainConfig(lr=cfg.lr, lr_threshold=cfg.lr_threshold, lr_leak=cfg.lr_leak)
        snn_val = (lambda: accuracy(predict_output(net, snn_outputs(net, f_val)), y_val)) \
            if len(y_val) else None
        net.to(dev)
        stats, snn_curve = _train(
            net, lambda idx: (net.scores(net(snn_input(f_fit[idx], net.delay).to(dev))), 0.0),
            y_fit, torch.optim.Adam(param_groups(net, tcfg)), cfg, seed, "snn", log, snn_val,
            after_step=net.clamp, device=dev)
        net.cpu()  # the twin, the energy count, the export and Lava run on the CPU
        m: dict[str, float] = {f"snn_{k}": v for k, v in stats.items()}
        out_deployed = deployed_outputs(net, f_te)
        report = snn_energy(net, snn_input(f_te[:cfg.energy_samples], net.delay))
        m.update(deployed_accuracy=accuracy(predict_output(net, out_deployed), y_te),
                 snn_test_accuracy=accuracy(predict_output(net, snn_outputs(net, f_te)), y_te),
                 snn_params=count_parameters(net), snn_energy_pj=report.snn_energy_pj,
                 snn_synops=report.synops)
        m.update({f"snn_{k}": v for k, v in report_dict(report).items()
                  if k.startswith("spike_rate")})
        learned = {"thresholds": net.thresholds(), "leaks": net.leaks(), "init_thresholds": init}
        for i, (theta, leak) in enumerate(zip(learned["thresholds"], learned["leaks"],
                                              strict=True)):
            m[f"snn_threshold_layer{i + 1}"], m[f"snn_leak_layer{i + 1}"] = theta, leak

        curves[str(seed)] = {"snn_val_accuracy": snn_curve}
        baselines = (("gru", lambda: CnnGru(cfg.spec, f_tr.shape[2:], cfg.gru_hidden),
                      baseline_energy, "energy_ratio"),
                     ("convlstm", lambda: ConvLstm(cfg.spec, f_tr.shape[2:], cfg.convlstm_hidden),
                      convlstm_energy, "convlstm_energy_ratio"))
        for name, build, energy_of, ratio_key in baselines:
            torch.manual_seed(seed)  # the same initial stream for every model of the seed
            model = build().to(dev)
            val = (lambda model=model: accuracy(gru_predict(model, f_val), y_val)) \
                if len(y_val) else None
            stats, curves[str(seed)][f"{name}_val_accuracy"] = _train(
                model, lambda idx, model=model: (
                    model(torch.from_numpy(f_fit[idx].astype(np.float32)).to(dev)), 0.0),
                y_fit, torch.optim.Adam(model.parameters(), lr=cfg.lr), cfg, seed, name, log,
                val, device=dev)
            cost = energy_of(model, cfg.n_bins)
            m.update({f"{name}_{k}": v for k, v in stats.items()})
            m.update({f"{name}_test_accuracy": accuracy(gru_predict(model, f_te), y_te),
                      f"{name}_params": count_parameters(model),
                      f"{name}_energy_pj": cost["energy_pj"], f"{name}_macs": cost["macs"],
                      ratio_key: cost["energy_pj"] / report.snn_energy_pj})
        m["snn_minus_gru"] = m["deployed_accuracy"] - m["gru_test_accuracy"]
        m["snn_minus_convlstm"] = m["deployed_accuracy"] - m["convlstm_test_accuracy"]
        m["snn_minus_best_baseline"] = min(m["snn_minus_gru"], m["snn_minus_convlstm"])
        if not first:
            first.update(seed=seed, net=net, out=out_deployed, report=report, learned=learned)
        log(f"  seed {seed}: deployed SNN {m['deployed_accuracy']:.4f} ({m['snn_params']} "
            f"params, {report.snn_energy_pj / 1e6:.3g} µJ) vs " + ", ".join(
                f"{title} {m[name + '_test_accuracy']:.4f} ({m[name + '_params']} params, "
                f"{m[name + '_energy_pj'] / 1e6:.3g} µJ)"
                for name, title in (("gru", "CNN+GRU"), ("convlstm", "ConvLSTM"))))
        return m

    metrics, extra = protocol.run(one_seed, log)
    metrics = {**shared, **metrics}
    net, model_dir = first["net"], Path(cfg.model_dir)
    with atomic_path(model_dir / f"{cfg.experiment}.pt") as tmp:
        torch.save({"spec": list(cfg.spec), "input_shape": list(net.input_shape),
                    "n_bins": cfg.n_bins, "readout": cfg.readout,
                    "state_dict": net.state_dict()}, tmp)
    net_path = net.export_hdf5(model_dir / f"{cfg.experiment}.net")
    nir_path = net.export_nir(model_dir / f"{cfg.experiment}.nir", dt=NIR_DT)
    n = min(cfg.lava_samples, len(y_te))
    log(f"  running {n} test sequences of seed {first['seed']}'s SNN in Lava (fixed_pt, events "
        f"as 8-bit graded spikes)...")
    t1 = time.perf_counter()
    payload = snn_payload(f_te[:n], net.delay)
    if cfg.readout == "integrator":  # the final voltage against the twin's last step
        out_lava = netx_output_voltage(net_path, payload, input_bits=INPUT_BITS)[..., None]
        ref, match_key = first["out"][:n, :, -1:], "lava_readout_match"
    else:
        out_lava = netx_output_spikes(net_path, payload, input_bits=INPUT_BITS)
        ref, match_key = first["out"][:n], "lava_spike_match"
    pred_lava, pred_twin = predict_output(net, out_lava), predict_output(net, ref)
    metrics.update(lava_samples=n, lava_seconds=round(time.perf_counter() - t1, 1),
                   lava_accuracy=accuracy(pred_lava, y_te[:n]),
                   deployed_accuracy_lava_subset=accuracy(pred_twin, y_te[:n]),
                   lava_agreement=accuracy(pred_lava, pred_twin),
                   **{match_key: float((out_lava == ref).mean())})
    metrics["total_seconds"] = round(time.perf_counter() - t0, 1)
    log(f"  deployed SNN {metrics['deployed_accuracy']:.4f} vs CNN+GRU "
        f"{metrics['gru_test_accuracy']:.4f}, ConvLSTM {metrics['convlstm_test_accuracy']:.4f} "
        f"(mean of {len(protocol.seeds)} seeds); Lava "
        f"agreement {metrics['lava_agreement']:.4f} on {n}")

    out_dir = Path(cfg.out_dir)
    plot_model_bars(metrics, ("snn", "gru", "convlstm"), ("SNN", "CNN+GRU", "ConvLSTM"),
                    out_dir / f"{cfg.experiment}.png", log_energy=True,
                    colors=("tab:blue", "tab:orange", "tab:green"), title=DATASET,
                    per_seed=extra["per_seed"])
    energy_note = ("45 nm: SNN 0.9 pJ per SynOp (all layers, events are binary input), "
                   "CNN+GRU and ConvLSTM 4.6 pJ per MAC (convolutions on every frame + GRU "
                   "or gate convolutions + readout)")
    config = {**asdict(cfg), "protocol": protocol.as_dict()}
    write_results(out_dir, cfg.experiment, dataset=DATASET, metrics=metrics,
                  method="lite", config=config, command=command, commit=commit,
                  headline=[k for k in HEADLINE if k in metrics], validation=info,
                  extra={**extra, "val_curves": curves, "learned": first["learned"],
                         "energy": energy_note, "energy_table": report_table(first["report"]),
                         "deployed_accuracy": "fixed-point SLAYER twin of the netx network on "
                                              "the Lava payload, its readout ("
                                              + _READOUT_TEXT[cfg.readout] + "), full test set",
                         "lava": f"Lava fixed_pt run of seed {first['seed']}'s exported SNN "
                                 f"on the first {n} test sequences",
                         "model_selection": "best epoch by validation accuracy (per model and "
                                            "seed); test evaluated once after training",
                         "note": "synthetic events from MNIST, not the N-MNIST recordings"},
                  paper={"snn_test_accuracy": "fewer parameters and lower energy than "
                                              "LSTM/GRU (DVS gesture; accuracy unverified)"},
                  allow_dirty=allow_dirty)
    card = {"model": "LITE event SNN (DIET-style SLAYER CUBA, learnable leak and threshold)",
            "dataset": DATASET, "time_bins": cfg.n_bins, "delay_steps": net.delay,
            "input": "binary event frames (2, 34, 34) per bin as 8-bit graded spikes of 255 "
                     "(x = 255/256), then delay silent steps",
            "readout": cfg.readout, "class": _READOUT_TEXT[cfg.readout],
            "config": config, "protocol": protocol.as_dict(), "validation": info,
            "seed": first["seed"], "learned": first["learned"],
            "metrics": {**{k: v[0] for k, v in extra["per_seed"].items()},
                        **{k: metrics[k] for k in LAVA_KEYS if k in metrics}},
            "files": [net_path.name, nir_path.name, f"{cfg.experiment}.pt"],
            # the .nir: time constants in seconds for this step; an integrator readout is
            # an affine output node
            "nir": {"dt": NIR_DT, "dt_unit": "s",
                    "readout": "affine" if cfg.readout == "integrator" else "spikes"},
            "results": str(out_dir / f"{cfg.experiment}.json"),
            "command": command or current_command(), "commit": commit}
    with atomic_open(model_dir / f"{cfg.experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics
