"""Method 3 experiment: ANN -> conversion (threshold balancing) -> STDB -> netx -> Lava.

``lava-thesis train hybrid`` calls :func:`run`; the demo calls it on the shipped MNIST subset.
The deployed networks are hard-reset (Lava's neuron); ``reset`` chooses the torch SNN's reset.
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
from lava_thesis.deploy.netx_run import netx_output_spikes
from lava_thesis.diet.ann import ann_predict, build_ann, train_ann
from lava_thesis.diet.energy import energy_from_input
from lava_thesis.diet.train import predict_spikes
from lava_thesis.hybrid import HybridSNN, balance_thresholds
from lava_thesis.hybrid.deploy import lava_twin, spike_payload, twin_output
from lava_thesis.hybrid.snn import poisson_input
from lava_thesis.hybrid.stdb import STDBConfig, intensities, snn_predict, train_stdb
from lava_thesis.model_check import load_state, load_torch, require_keys, require_range
from lava_thesis.plots import new_figure, plot_accuracy_vs_steps, save_figure
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.slayer_ext import INPUT_BITS

ANN_EXPECTED = "the ANN state dict a hybrid run wrote (resume)"
STDB_EXPECTED = "an STDB checkpoint a hybrid run wrote (state_dict, per_epoch, seconds)"

DEFAULT_SPEC = ("c16k3s2", "c32k3s2", "f", "d128", "d10")
PAPER = {"hybrid_accuracy": "CIFAR-10 VGG16 91.13%, ResNet20 92.22% at 250 steps; "
                            "ImageNet 65.19% at 250 steps",
         "step_reduction": "10x (250 vs 2500 steps, ImageNet)"}
HEADLINE = ("ann_accuracy", "converted_accuracy", "hybrid_accuracy", "step_reduction",
            "step_reduction_at_least", "deployed_accuracy_hybrid",
            "lava_accuracy_hybrid", "agreement_hybrid", "agreement_converted",
            "energy_ratio_hybrid")


@dataclass
class HybridConfig:
    """One hybrid run; ``eval_samples`` test images are used for the accuracy-vs-steps sweeps
    (each point simulates every step), the whole test set for the headline numbers."""

    spec: tuple[str, ...] = DEFAULT_SPEC
    ann_epochs: int = 3
    num_steps: int = 25  # the hybrid network's time steps (STDB and deployment)
    balance_steps: int = 100
    balance_images: int = 256
    threshold_scale: float = 0.7
    percentile: float | None = None  # None: maximum current
    reset: str = "hard"
    stdb: STDBConfig = field(default_factory=STDBConfig)
    stdb_samples: int | None = None  # training images per STDB epoch (None: all)
    sweep_steps: tuple[int, ...] = (10, 25, 50, 100, 200)
    eval_samples: int = 1000
    lava_samples: int = 200
    energy_samples: int = 200


def _steps_to_reach(curve: dict[int, float], target: float) -> int | None:
    for t in sorted(curve):
        if curve[t] >= target:
            return t
    return None


def _payload(cfg: HybridConfig, images: np.ndarray, delay: int) -> np.ndarray:
    """Poisson spikes of ``images`` (seeded: every network sees the same) as a Lava payload."""
    spikes = poisson_input(intensities(images), cfg.num_steps, torch.Generator().manual_seed(11))
    return spike_payload(spikes.permute(1, 2, 3, 4, 0).numpy(), delay)


def _lava_run(snn: HybridSNN, cfg: HybridConfig, images: np.ndarray, input_shape,
              path: Path) -> dict:
    """Export the twin, run ``images`` in Lava and in the twin on the same spikes."""
    twin = lava_twin(snn, list(cfg.spec), input_shape)
    payload = _payload(cfg, images, twin.delay)
    net_path = twin.export_hdf5(path)
    out_twin = twin_output(twin, payload)
    out_lava = netx_output_spikes(net_path, payload, input_bits=INPUT_BITS)
    return {"agreement": float((predict_spikes(out_lava) == predict_spikes(out_twin)).mean()),
            "spike_match": float((out_lava == out_twin).mean()),
            "twin_pred": predict_spikes(out_twin), "lava_pred": predict_spikes(out_lava)}


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
) -> dict[str, float]:
    """The whole pipeline; writes ``<out_dir>/<experiment>.json`` + plots and, in
    ``model_dir``, the ANN checkpoint, the converted and hybrid ``.net`` / ``.pt`` files and a
    model card. ``resume`` reuses a finished ANN / STDB checkpoint of the same experiment."""
    cfg = config or HybridConfig()
    out_dir, model_dir = Path(out_dir), Path(model_dir or out_dir)
    (x_tr, y_tr), (x_te, y_te) = train, test
    input_shape = intensities(x_tr[:1]).shape[1:]
    torch.manual_seed(cfg.stdb.seed)
    commit = git_commit()
    n_eval = min(cfg.eval_samples, len(y_te))

    ann_path = model_dir / f"{experiment}_ann.pt"
    ann = build_ann(cfg.spec, input_shape)
    if resume and ann_path.is_file():
        load_state(ann_path, ann, load_torch(ann_path, ANN_EXPECTED), ANN_EXPECTED)
        log(f"  resumed the ANN from {ann_path}")
    else:
        train_ann(ann, x_tr, y_tr, epochs=cfg.ann_epochs, seed=cfg.stdb.seed,
                  on_epoch=lambda e, a: log(f"  ANN epoch {e + 1}: train accuracy {a:.3f}"))
        with atomic_path(ann_path) as tmp:
            torch.save(ann.state_dict(), tmp)
    ann_acc = float((ann_predict(ann, x_te) == y_te).mean())
    log(f"  ANN test accuracy {ann_acc:.4f}")

    snn = HybridSNN(ann, [1.0] * sum(1 for m in ann if hasattr(m, "weight")), reset=cfg.reset)
    thetas = balance_thresholds(snn, intensities(x_tr[:cfg.balance_images]),
                                cfg.balance_steps, percentile=cfg.percentile,
                                scale=cfg.threshold_scale, seed=cfg.stdb.seed)
    converted = {t: float((snn_predict(snn, x_te[:n_eval], t) == y_te[:n_eval]).mean())
                 for t in cfg.sweep_steps}
    conv_acc = float((snn_predict(snn, x_te, cfg.num_steps) == y_te).mean())
    log(f"  converted SNN ({cfg.reset} reset), accuracy vs steps: {converted}")
    n_lava = min(cfg.lava_samples, len(y_te))
    lava_conv = _lava_run(snn, cfg, x_te[:n_lava], input_shape,
                          model_dir / f"{experiment}_converted.net")
    converted_snn = HybridSNN(ann, thetas, reset=cfg.reset)  # kept for the energy comparison

    stdb_path = model_dir / f"{experiment}_stdb.pt"
    per_epoch: list[float] = []
    t0, spent = time.perf_counter(), 0.0
    if resume and stdb_path.is_file():
        ckpt = require_keys(stdb_path, load_torch(stdb_path, STDB_EXPECTED),
                            ("state_dict", "per_epoch"), STDB_EXPECTED)
        load_state(stdb_path, snn, ckpt["state_dict"], STDB_EXPECTED)
        require_range(stdb_path, "per_epoch accuracies", ckpt["per_epoch"], 0, 1,
                      expected=STDB_EXPECTED)
        require_range(stdb_path, "seconds", ckpt.get("seconds", 0.0), 0, expected=STDB_EXPECTED)
        per_epoch, spent = list(ckpt["per_epoch"]), float(ckpt.get("seconds", 0.0))
        log(f"  resumed STDB from {stdb_path} ({len(per_epoch)} epochs)")
    rng = np.random.default_rng(cfg.stdb.seed)
    for epoch in range(len(per_epoch), cfg.stdb.epochs):
        idx = rng.permutation(len(y_tr))[:cfg.stdb_samples or len(y_tr)]
        one = STDBConfig(**{**asdict(cfg.stdb), "epochs": 1, "seed": cfg.stdb.seed + epoch})
        train_stdb(snn, x_tr[idx], y_tr[idx], cfg.num_steps, one)
        per_epoch.append(float((snn_predict(snn, x_te[:n_eval], cfg.num_steps)
                                == y_te[:n_eval]).mean()))
        log(f"  STDB epoch {epoch + 1}: accuracy {per_epoch[-1]:.4f} ({n_eval} test images)")
        with atomic_path(stdb_path) as tmp:  # checkpoint: resume continues from here
            torch.save({"state_dict": snn.state_dict(), "per_epoch": per_epoch,
                        "seconds": spent + time.perf_counter() - t0}, tmp)
    stdb_s = spent + time.perf_counter() - t0  # STDB time, including resumed epochs
    hybrid = {t: float((snn_predict(snn, x_te[:n_eval], t) == y_te[:n_eval]).mean())
              for t in cfg.sweep_steps}
    hyb_acc = float((snn_predict(snn, x_te, cfg.num_steps) == y_te).mean())
    log(f"  hybrid accuracy vs steps: {hybrid}")
    lava_hyb = _lava_run(snn, cfg, x_te[:n_lava], input_shape,
                         model_dir / f"{experiment}_hybrid.net")

    target = hybrid.get(cfg.num_steps, hyb_acc)
    conv_steps = _steps_to_reach(converted, target)
    metrics = {
        "ann_accuracy": ann_acc,
        "converted_accuracy": conv_acc,
        "hybrid_accuracy": hyb_acc,
        "num_steps": cfg.num_steps,
        "stdb_seconds": round(stdb_s, 1),
        "lava_samples": n_lava,
        "agreement_converted": lava_conv["agreement"],
        "agreement_hybrid": lava_hyb["agreement"],
        "spike_match_hybrid": lava_hyb["spike_match"],
        "lava_accuracy_hybrid": float((lava_hyb["lava_pred"] == y_te[:n_lava]).mean()),
        "lava_accuracy_converted": float((lava_conv["lava_pred"] == y_te[:n_lava]).mean()),
        **{f"converted_accuracy_T{t}": a for t, a in converted.items()},
        **{f"hybrid_accuracy_T{t}": a for t, a in hybrid.items()},
        **{f"hybrid_accuracy_epoch{e + 1}": a for e, a in enumerate(per_epoch)},
    }
    if conv_steps is not None:
        metrics["converted_steps_to_match_hybrid"] = conv_steps
        metrics["step_reduction"] = conv_steps / cfg.num_steps
    else:  # conversion never reached it within the sweep
        metrics["step_reduction_at_least"] = max(converted) / cfg.num_steps
    n_energy = min(cfg.energy_samples, len(y_te))
    for name, net in (("converted", converted_snn), ("hybrid", snn)):
        twin = lava_twin(net, list(cfg.spec), input_shape)
        out = twin_output(twin, _payload(cfg, x_te[:n_eval], twin.delay))
        metrics[f"deployed_accuracy_{name}"] = float((predict_spikes(out) == y_te[:n_eval]).mean())
        pay = _payload(cfg, x_te[:n_energy], twin.delay)
        rep = energy_from_input(twin, torch.from_numpy(pay / 256.0), analog_input=False)
        for key, value in energy.report_dict(rep).items():
            metrics[f"{key}_{name}"] = value
    with atomic_path(model_dir / f"{experiment}_hybrid.pt") as tmp:
        torch.save({"spec": list(cfg.spec), "input_shape": list(input_shape),
                    "thresholds": snn.thresholds.tolist(), "reset": cfg.reset,
                    "num_steps": cfg.num_steps, "state_dict": snn.state_dict()}, tmp)
    _plots(out_dir, experiment, dataset, ann_acc, converted, hybrid, per_epoch, cfg)
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="hybrid",
                  config=asdict(cfg), commit=commit, paper=PAPER,
                  extra={"thresholds": thetas},
                  headline=[k for k in HEADLINE if k in metrics], allow_dirty=allow_dirty)
    card = {"model": f"hybrid conversion + STDB ({cfg.reset} reset IF), netx twin",
            "dataset": dataset, "time_steps": cfg.num_steps, "config": asdict(cfg),
            "metrics": metrics, "thresholds": snn.thresholds.tolist(),
            "files": [f"{experiment}_converted.net", f"{experiment}_hybrid.net",
                      f"{experiment}_hybrid.pt", f"{experiment}_ann.pt"],
            "command": current_command(), "commit": commit}
    with atomic_open(model_dir / f"{experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics


def _plots(out_dir: Path, experiment: str, dataset: str, ann_acc: float, converted: dict,
           hybrid: dict, per_epoch: list[float], cfg: HybridConfig) -> None:
    steps = list(converted)
    plot_accuracy_vs_steps({"conversion": (steps, list(converted.values())),
                            f"hybrid (STDB at T={cfg.num_steps})": (steps,
                                                                    list(hybrid.values())),
                            "ANN": ([min(steps), max(steps)], [ann_acc, ann_acc])},
                           out_dir / f"{experiment}_accuracy_vs_steps.png",
                           title=f"Conversion vs. hybrid on {dataset}")
    if per_epoch:
        fig = new_figure()
        ax = fig.add_subplot()
        ax.plot(range(1, len(per_epoch) + 1), [100 * a for a in per_epoch], marker="o")
        ax.set(xlabel="STDB epoch", ylabel="test accuracy (%)",
               title=f"STDB fine-tuning at T={cfg.num_steps}")
        ax.grid(alpha=0.3)
        save_figure(fig, out_dir / f"{experiment}_accuracy_vs_epoch.png")
