"""The DIET-SNN experiment: ANN -> threshold init -> DIET training -> T sweep, energy, export
to netx and NIR, and the Lava fixed-point run with prediction agreement.

``lava-thesis train diet`` calls :func:`run`; the demo calls it on the shipped MNIST subset.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from lava_thesis import energy
from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes, netx_output_voltage
from lava_thesis.deploy.nir_export import DT_DEFAULT as NIR_DT
from lava_thesis.diet import DietSNN
from lava_thesis.diet.ann import ann_predict, build_ann, train_ann
from lava_thesis.diet.energy import energy_report
from lava_thesis.diet.train import (
    TrainConfig,
    as_images,
    lava_payload,
    load_ann_weights,
    predict_output,
    snn_output,
    threshold_init,
    train_snn,
)
from lava_thesis.plots import plot_accuracy_vs_steps
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.slayer_ext import INPUT_BITS

# Strided convolutions instead of pooling (netx has none). A small first layer keeps the analog
# MACs of direct input cheap; the deeper layers carry the spiking (accumulate-only) work.
DEFAULT_SPEC = ("c8k3s2", "c32k3s1", "c64k3s2", "f", "d256", "d10")
# VGG-style for 3x32x32 CIFAR-10 (strided convs where VGG pools); for a machine with the data.
VGG9_SPEC = ("c64k3s1", "c64k3s2", "c128k3s1", "c128k3s2", "c256k3s1", "c256k3s1", "c256k3s2",
             "f", "d1024", "d10")
SPECS = {"small": DEFAULT_SPEC, "vgg9": VGG9_SPEC}
HEADLINE = ("ann_accuracy", "snn_accuracy", "snn_accuracy_T1", "snn_accuracy_T10",
            "lava_accuracy", "agreement", "readout_match", "energy_ratio", "snn_energy_uj",
            "ann_energy_uj")


@dataclass
class DietConfig:
    """Settings of one DIET run (stored in the results and the model card)."""

    spec: tuple[str, ...] = DEFAULT_SPEC
    num_steps: int = 5
    ann_epochs: int = 3
    threshold_percentile: float = 99.7
    threshold_scale: float = 0.3
    train: TrainConfig = field(default_factory=TrainConfig)
    #: "integrator" (the paper's non-spiking membrane readout) or "spikes" (spike counts)
    readout: str = "integrator"
    sweep_steps: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
    lava_samples: int = 500
    energy_samples: int = 500


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    config: DietConfig | None = None,
    experiment: str = "diet",
    model_dir: str | Path | None = None,
    log=print,
    allow_dirty: bool = False,
) -> dict[str, float]:
    """Run the whole DIET pipeline; write ``<out_dir>/<experiment>.json`` + plots, and the
    model (``.net``, ``.nir``, ``.pt``, model card) to ``model_dir`` (default ``out_dir``)."""
    cfg = config or DietConfig()
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    (x_tr, y_tr), (x_te, y_te) = train, test
    input_shape = as_images(x_tr[:1]).shape[1:]
    torch.manual_seed(cfg.train.seed)
    commit = git_commit()  # the code this run started from

    t0 = time.perf_counter()
    ann = build_ann(cfg.spec, input_shape)
    train_ann(ann, x_tr, y_tr, epochs=cfg.ann_epochs, seed=cfg.train.seed,
              on_epoch=lambda e, a: log(f"  ANN epoch {e + 1}: train accuracy {a:.3f}"))
    ann_acc = float((ann_predict(ann, x_te) == y_te).mean())
    thetas = threshold_init(ann, x_tr[:1000], cfg.threshold_percentile, cfg.threshold_scale)
    net = DietSNN(cfg.spec, input_shape, readout=cfg.readout)
    load_ann_weights(net, ann, thetas)
    init_acc = float((predict_output(net, snn_output(net, x_te, cfg.num_steps)) == y_te).mean())
    log(f"  ANN test accuracy {ann_acc:.4f}; SNN after threshold init {init_acc:.4f}")
    train_snn(net, x_tr, y_tr, cfg.num_steps, cfg.train,
              on_epoch=lambda e, a: log(f"  DIET epoch {e + 1}: train accuracy {a:.3f}"))
    train_s = time.perf_counter() - t0

    out_torch = snn_output(net, x_te, cfg.num_steps)
    pred_torch = predict_output(net, out_torch)
    sweep = {t: float((predict_output(net, snn_output(net, x_te, t)) == y_te).mean())
             for t in cfg.sweep_steps}
    log(f"  accuracy vs T (trained at T={cfg.num_steps}): {sweep}")
    report = energy_report(net, x_te[:cfg.energy_samples], cfg.num_steps)

    with atomic_path(model_dir / f"{experiment}.pt") as tmp:
        torch.save({"spec": list(cfg.spec), "input_shape": list(input_shape),
                    "num_steps": cfg.num_steps, "readout": cfg.readout,
                    "state_dict": net.state_dict()}, tmp)
    net_path = net.export_hdf5(model_dir / f"{experiment}.net")
    net.export_nir(model_dir / f"{experiment}.nir", dt=NIR_DT)
    n = min(cfg.lava_samples, len(y_te))
    log(f"  running {n} test samples in Lava (fixed_pt, 8-bit direct input)...")
    t0 = time.perf_counter()
    payload = lava_payload(x_te[:n], cfg.num_steps, net.delay)
    if cfg.readout == "integrator":  # compare the final voltage (torch's last step)
        out_lava = netx_output_voltage(net_path, payload, input_bits=INPUT_BITS)[..., None]
        ref = out_torch[:n, :, -1:]
    else:
        out_lava = netx_output_spikes(net_path, payload, input_bits=INPUT_BITS)
        ref = out_torch[:n]
    lava_s = time.perf_counter() - t0
    pred_lava = predict_output(net, out_lava)

    metrics = {
        "ann_accuracy": ann_acc,
        "snn_accuracy": float((pred_torch == y_te).mean()),
        "snn_accuracy_after_init": init_acc,
        "lava_accuracy": float((pred_lava == y_te[:n]).mean()),
        "agreement": float((pred_lava == pred_torch[:n]).mean()),
        # identical output values: the readout's final voltages, or the output spikes
        ("readout_match" if cfg.readout == "integrator" else "spike_match"):
            float((out_lava == ref).mean()),
        "lava_samples": n,
        "train_seconds": round(train_s, 1),
        "lava_seconds": round(lava_s, 1),
        **{f"snn_accuracy_T{t}": acc for t, acc in sweep.items()},
        **energy.report_dict(report),
    }
    learned = {"thresholds": net.thresholds(), "leaks": net.leaks(),
               "init_thresholds": thetas}
    for i, (theta, leak) in enumerate(zip(learned["thresholds"], learned["leaks"],
                                          strict=True)):
        metrics[f"threshold_layer{i + 1}"] = theta
        metrics[f"leak_layer{i + 1}"] = leak
    plot_accuracy_vs_steps({"DIET-SNN": (list(sweep), list(sweep.values())),
                            "ANN": ([min(sweep), max(sweep)], [ann_acc, ann_acc])},
                           out_dir / f"{experiment}_accuracy_vs_steps.png",
                           title=f"DIET-SNN on {dataset} (trained at T={cfg.num_steps})")
    energy.plot_report(report, out_dir / f"{experiment}_energy.png")
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="diet",
                  config=asdict(cfg), commit=commit, extra={"learned": learned,
                                             "energy_table": energy.report_table(report)},
                  headline=[k for k in HEADLINE if k in metrics],
                  paper={"snn_accuracy": "CIFAR-10 VGG16 92.70% at T=5",
                         "energy_ratio": "12x (ImageNet); 6-18x across tasks"},
                  allow_dirty=allow_dirty)
    card = {"model": "DIET-SNN (SLAYER CUBA, learnable leak and threshold)",
            "dataset": dataset, "time_steps": cfg.num_steps, "delay_steps": net.delay,
            "input": "direct: 8-bit pixels p, x = p/256, repeated T steps + delay silent steps",
            "readout": cfg.readout,
            # the .nir: time constants in seconds for this step; an integrator readout is
            # the graph's output current, summed over time by the caller
            "nir": {"dt": NIR_DT, "dt_unit": "s",
                    "readout": "affine" if cfg.readout == "integrator" else "spikes"},
            "config": asdict(cfg), "metrics": metrics, "learned": learned,
            "files": [net_path.name, f"{experiment}.nir", f"{experiment}.pt"],
            "results": str(out_dir / f"{experiment}.json"), "command": current_command(),
            "commit": commit}
    with atomic_open(model_dir / f"{experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics


def measure_saved_energy(
    model_path: str | Path,
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    samples: int = 500,
    allow_dirty: bool = False,
) -> dict[str, float]:
    """Energy report of a saved DIET checkpoint on the first ``samples`` test images.

    Writes ``<out_dir>/<model stem>_energy_check.json`` (per-layer table in ``extra``) and
    ``<model stem>_energy_check.png`` (the training run's own plot is ``_energy.png``); returns
    the metrics, with the torch accuracy on those images as a check that the right model and
    data were given. Raises FileNotFoundError / ValueError for a missing or foreign file.
    """
    from lava_thesis.diet.model import load_checkpoint

    net, steps = load_checkpoint(model_path)
    images, labels = test[0][:samples], test[1][:samples]
    report = energy_report(net, images, steps)
    pred = predict_output(net, snn_output(net, images, steps))
    stem = Path(model_path).stem
    metrics = {"snn_accuracy": float((pred == labels).mean()), "samples": len(labels),
               **energy.report_dict(report)}
    energy.plot_report(report, Path(out_dir) / f"{stem}_energy_check.png")
    write_results(out_dir, f"{stem}_energy_check", dataset=dataset, metrics=metrics,
                  method="diet",
                  config={"model": str(model_path), "num_steps": steps, "samples": samples},
                  extra={"energy_table": energy.report_table(report)},
                  headline=["energy_ratio", "snn_energy_uj", "ann_energy_uj", "snn_accuracy"],
                  paper={"energy_ratio": "12x (ImageNet); 6-18x across tasks"},
                  allow_dirty=allow_dirty)
    return metrics
