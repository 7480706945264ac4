"""The DIET-SNN experiment: ANN -> threshold init -> DIET training -> T sweep, energy, export
to netx and NIR, and the Lava fixed-point run with prediction agreement.

``lava-thesis train diet`` calls :func:`run`; the demo calls it on the shipped MNIST subset.
It follows the evaluation protocol (:mod:`lava_thesis.protocol`): a validation split carved
off the training images picks the best DIET epoch, and one network is trained per seed.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from lava_thesis import distributed, energy
from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes, netx_output_voltage
from lava_thesis.deploy.nir_export import DT_DEFAULT as NIR_DT
from lava_thesis.diet import DietSNN
from lava_thesis.diet.ann import ann_predict, build_ann, train_ann
from lava_thesis.diet.checkpoint import EpochCheckpoint
from lava_thesis.diet.energy import energy_report
from lava_thesis.diet.train import (
    TrainConfig,
    accuracy,
    as_images,
    lava_payload,
    load_ann_weights,
    predict_output,
    snn_output,
    threshold_init,
    train_snn,
)
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.slayer_ext import INPUT_BITS
from lava_thesis.training import BestEpoch

# Strided convolutions instead of pooling (netx has none). A small first layer keeps the analog
# MACs of direct input cheap; the deeper layers carry the spiking (accumulate-only) work.
DEFAULT_SPEC = ("c8k3s2", "c32k3s1", "c64k3s2", "f", "d256", "d10")
# VGG-style for 3x32x32 CIFAR-10 (strided convs where VGG pools); for a machine with the data.
VGG9_SPEC = ("c64k3s1", "c64k3s2", "c128k3s1", "c128k3s2", "c256k3s1", "c256k3s1", "c256k3s2",
             "f", "d1024", "d10")
# The same networks with spiking sum pooling (``p2``) where the strided convolutions pool.
POOL_SPEC = ("c8k3s1", "p2", "c32k3s1", "c64k3s2", "f", "d256", "d10")
VGG9_POOL_SPEC = ("c64k3s1", "c64k3s1", "p2", "c128k3s1", "c128k3s1", "p2", "c256k3s1",
                  "c256k3s1", "c256k3s1", "p2", "f", "d1024", "d10")
# VGG16 (13 convolutions, 3 dense layers) for 3x32x32: the thesis' CIFAR-10 network.
VGG16_POOL_SPEC = ("c64k3s1", "c64k3s1", "p2", "c128k3s1", "c128k3s1", "p2",
                   "c256k3s1", "c256k3s1", "c256k3s1", "p2", "c512k3s1", "c512k3s1", "c512k3s1",
                   "p2", "c512k3s1", "c512k3s1", "c512k3s1", "p2", "f", "d4096", "d4096", "d10")
VGG16_SPEC = ("c64k3s1", "c64k3s2", "c128k3s1", "c128k3s2", "c256k3s1", "c256k3s1",
              "c256k3s2", "c512k3s1", "c512k3s1", "c512k3s2", "c512k3s1", "c512k3s1",
              "c512k3s2", "f", "d4096", "d4096", "d10")
# A twelfth of DEFAULT_SPEC's multiply-accumulates: for sweeps that train many networks
# (the leak/threshold ablation retrains five variants at five T per seed) on a CPU.
TINY_SPEC = ("c8k3s2", "c16k3s2", "f", "d128", "d10")
SPECS = {"small": DEFAULT_SPEC, "small-pool": POOL_SPEC, "tiny": TINY_SPEC, "vgg9": VGG9_SPEC,
         "vgg9-pool": VGG9_POOL_SPEC, "vgg16": VGG16_SPEC, "vgg16-pool": VGG16_POOL_SPEC}


def resolve_spec(spec: str | None) -> tuple[tuple[str, ...], str]:
    """``--spec`` -> ``(layers, name suffix)``: a name in :data:`SPECS` or comma-separated
    layers; ``None`` is ``small``. The suffix (``""`` for ``small``, ``"_tiny"`` for a named
    spec, ``"_custom"`` otherwise) goes into the experiment's name, so a run with another
    network never overwrites the default network's files.

    >>> resolve_spec("tiny")
    (('c8k3s2', 'c16k3s2', 'f', 'd128', 'd10'), '_tiny')
    >>> resolve_spec("c4k3s2,f,d10")
    (('c4k3s2', 'f', 'd10'), '_custom')
    """
    name = spec or "small"
    layers = SPECS.get(name, tuple(layer.strip() for layer in name.split(",")))
    if layers == SPECS["small"]:
        return layers, ""
    return layers, "_" + (name.replace("-", "_") if name in SPECS else "custom")
#: the metrics the README table shows, the deployed (Lava-exact) accuracy first
HEADLINE = ("deployed_accuracy", "lava_accuracy", "agreement", "readout_match", "spike_match",
            "snn_accuracy", "ann_accuracy", "val_accuracy", "snn_accuracy_T1",
            "snn_accuracy_T10", "energy_ratio", "snn_energy_uj", "ann_energy_uj")


@dataclass
class DietConfig:
    """Settings of one DIET run (stored in the results and the model card). ``train.seed`` is
    the seed of a run without an explicit :class:`~lava_thesis.protocol.Protocol`, and
    ``val_fraction`` the share of each training class it holds out for validation."""

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
    val_fraction: float = 0.1


def _accuracy(net: DietSNN, images: np.ndarray, labels: np.ndarray, steps: int) -> float:
    """:func:`~lava_thesis.diet.train.accuracy` (split across the ranks under a process
    group, so every rank calls it)."""
    return accuracy(net, images, labels, steps)


def train_best_epoch(net: DietSNN, train: tuple[np.ndarray, np.ndarray],
                     val: tuple[np.ndarray, np.ndarray], num_steps: int, cfg: TrainConfig,
                     log=print, checkpoint: EpochCheckpoint | None = None
                     ) -> tuple[list[float], int]:
    """:func:`~lava_thesis.diet.train.train_snn` for ``cfg.epochs``, keeping the weights,
    thresholds and leaks of the epoch with the best validation accuracy (the latest on ties;
    the final epoch when ``val`` is empty). Returns the validation accuracy per epoch (empty
    without validation data) and the chosen epoch (1-based). ``checkpoint``: per-epoch
    checkpoints that hold the validation history and the best epoch too."""
    (x_va, y_va), history = val, []
    best = BestEpoch(cfg.epochs)

    def restore(extra: dict) -> None:
        nonlocal best
        history[:] = extra["history"]
        best = BestEpoch.from_dict(extra["best"])
        log(f"  resumed DIET after epoch {len(history)} from {checkpoint.path}")

    def on_epoch(epoch: int, train_acc: float) -> None:
        line = f"  DIET epoch {epoch + 1}: train accuracy {train_acc:.3f}"
        if len(y_va):
            history.append(_accuracy(net, x_va, y_va, num_steps))
            line += f", validation {history[-1]:.3f}"
            best.offer(epoch + 1, history[-1], net)
        log(line)

    train_snn(net, *train, num_steps, cfg, on_epoch=on_epoch, checkpoint=checkpoint,
              state=lambda: {"history": list(history), "best": best.as_dict()}, restore=restore)
    best.restore(net)
    return history, best.epoch


def plot_sweep(per_seed: dict[str, list[float]], steps: list[int], ann: list[float],
               path: str | Path, title: str) -> Path:
    """Accuracy (in %) against T: the mean over seeds with its min-max band, and the ANN's
    mean accuracy (band: its min-max over seeds) as a horizontal reference."""
    acc = 100.0 * np.asarray(list(per_seed.values()), dtype=np.float64)  # (seeds, steps)
    fig = new_figure()
    ax = fig.add_subplot()
    label = f"DIET-SNN (mean of {len(acc)} seeds)" if len(acc) > 1 else "DIET-SNN"
    ax.plot(steps, acc.mean(0), marker="o", label=label)
    if len(acc) > 1:
        ax.fill_between(steps, acc.min(0), acc.max(0), alpha=0.25, label="min-max over seeds")
    a = 100.0 * np.asarray(ann)
    ax.axhline(a.mean(), color="gray", linestyle="--", label="ANN twin")
    if len(a) > 1:
        ax.axhspan(a.min(), a.max(), color="gray", alpha=0.15)
    ax.set(xlabel="time steps T", ylabel="accuracy (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


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
    protocol: Protocol | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
) -> dict[str, float]:
    """Run the whole DIET pipeline once per seed; write ``<out_dir>/<experiment>.json`` + plots,
    and the first seed's model (``.net``, ``.nir``, ``.pt``, model card) to ``model_dir``
    (default ``out_dir``).

    ``checkpoint_every`` N > 0: every N epochs each seed's DIET training state goes to
    ``<model_dir>/<experiment>.seed<S>.ckpt`` (:mod:`lava_thesis.diet.checkpoint`); ``resume``
    continues each seed from its checkpoint (the ANN and the initialisation are recomputed,
    deterministically; the results config then says ``"resumed": true``). The checkpoints
    are removed when the run has finished.

    ``protocol`` gives the seeds and the validation split carved off ``train`` (None: one seed,
    ``config.train.seed``, and ``config.val_fraction``). The ANN, the threshold initialisation
    and DIET train on the rest; the validation split picks the best DIET epoch
    (:func:`train_best_epoch`); the test set is evaluated after that.

    Returns the metrics, each the mean over the seeds (per-seed values in ``extra.per_seed``):

    * ``deployed_accuracy`` (the headline): the accuracy on ALL test images of the exported
      network with its readout (the integrator's final voltage, or spike counts), computed by
      SLAYER's forward of the network after export. That forward is Lava's ``fixed_pt``
      computation bit for bit: 8-bit weights with the learned threshold folded in (what netx
      writes), direct input floored to the fixed-point grid, CUBA dynamics in fixed point
      (tests/test_diet.py; ``readout_match``/``spike_match`` check it on the Lava subset).
    * ``lava_accuracy``, ``agreement`` (Lava vs the deployed twin) and ``readout_match``
      (integrator: identical final voltages) or ``spike_match`` (identical output spikes) on
      the first ``lava_samples`` test images, run in Lava.
    * ``snn_accuracy`` (the trained network's SLAYER forward at ``num_steps``, before export;
      it equals ``deployed_accuracy`` since export changes nothing), ``snn_accuracy_T<t>`` (the
      sweep), ``snn_accuracy_after_init``, ``ann_accuracy`` (the ANN twin), ``val_accuracy``
      and ``best_epoch`` (absent without validation data), energy, learned thresholds/leaks.
    """
    cfg = config or DietConfig()
    protocol = or_single_seed(protocol, cfg.train.seed, cfg.val_fraction)
    cfg = replace(cfg, train=replace(cfg.train, seed=protocol.seeds[0]),
                  val_fraction=protocol.val_fraction)
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    (x_tr, y_tr), (x_va, y_va), info = split_training(*train, protocol)
    x_te, y_te = test
    input_shape = as_images(x_tr[:1]).shape[1:]
    commit = git_commit()  # the code this run started from
    log(f"  validation split: {info['train']} training, {info['val']} validation images")
    sweeps: dict[str, list[float]] = {}
    curves: dict[str, list[float]] = {}
    first: dict = {}
    plans = ({seed: EpochCheckpoint(model_dir / f"{experiment}.seed{seed}.ckpt",
                                    max(checkpoint_every, 1), resume)
              for seed in protocol.seeds} if checkpoint_every or resume else {})
    resumed: list[int] = []

    def one_seed(seed: int) -> dict[str, float]:
        torch.manual_seed(seed)
        tcfg = replace(cfg.train, seed=seed)
        t0 = time.perf_counter()
        ann = build_ann(cfg.spec, input_shape)
        train_ann(ann, x_tr, y_tr, epochs=cfg.ann_epochs, seed=seed,
                  on_epoch=lambda e, a: log(f"  ANN epoch {e + 1}: train accuracy {a:.3f}"))
        ann_acc = float((ann_predict(ann, x_te) == y_te).mean())
        thetas = threshold_init(ann, x_tr[:1000], cfg.threshold_percentile, cfg.threshold_scale)
        net = DietSNN(cfg.spec, input_shape, readout=cfg.readout)
        load_ann_weights(net, ann, thetas)
        init_acc = _accuracy(net, x_te, y_te, cfg.num_steps)
        log(f"  ANN test accuracy {ann_acc:.4f}; SNN after threshold init {init_acc:.4f}")
        plan = plans.get(seed)
        if plan is not None and resume and plan.path.is_file():
            resumed.append(seed)
        curve, best_epoch = train_best_epoch(net, (x_tr, y_tr), (x_va, y_va), cfg.num_steps,
                                             tcfg, log, checkpoint=plan)
        train_s = time.perf_counter() - t0
        curves[str(seed)] = curve

        parallel = distributed.is_initialized()  # the sweep: each rank a share of the images
        pred_torch = (None if parallel else
                      predict_output(net, snn_output(net, x_te, cfg.num_steps)))
        sweep = {t: (float((pred_torch == y_te).mean()) if t == cfg.num_steps and not parallel
                     else _accuracy(net, x_te, y_te, t)) for t in cfg.sweep_steps}
        sweeps[str(seed)] = list(sweep.values())
        log(f"  accuracy vs T (trained at T={cfg.num_steps}): {sweep}")
        if not distributed.is_main():  # rank 0 alone: energy, export, Lava, files
            return {f"snn_accuracy_T{t}": acc for t, acc in sweep.items()}
        net.cpu()  # after training: export, energy and Lava run on the CPU
        if pred_torch is None:
            pred_torch = predict_output(net, snn_output(net, x_te, cfg.num_steps))
        report = energy_report(net, x_te[:cfg.energy_samples], cfg.num_steps)
        with tempfile.TemporaryDirectory() as scratch:
            folder = model_dir if seed == protocol.seeds[0] else Path(scratch)
            net_path = net.export_hdf5(folder / f"{experiment}.net")
            out_dep = snn_output(net, x_te, cfg.num_steps)  # the exported network's twin
            pred_dep = predict_output(net, out_dep)
            n = min(cfg.lava_samples, len(y_te))
            log(f"  running {n} test samples in Lava (fixed_pt, 8-bit direct input)...")
            t0 = time.perf_counter()
            payload = lava_payload(x_te[:n], cfg.num_steps, net.delay)
            if cfg.readout == "integrator":  # compare the final voltage (torch's last step)
                out_lava = netx_output_voltage(net_path, payload, input_bits=INPUT_BITS)[..., None]
                ref = out_dep[:n, :, -1:]
            else:
                out_lava = netx_output_spikes(net_path, payload, input_bits=INPUT_BITS)
                ref = out_dep[:n]
            lava_s = time.perf_counter() - t0
        pred_lava = predict_output(net, out_lava)
        metrics = {
            "deployed_accuracy": float((pred_dep == y_te).mean()),
            "ann_accuracy": ann_acc,
            "snn_accuracy": float((pred_torch == y_te).mean()),
            "snn_accuracy_after_init": init_acc,
            "lava_accuracy": float((pred_lava == y_te[:n]).mean()),
            "agreement": float((pred_lava == pred_dep[:n]).mean()),
            # identical output values: the readout's final voltages, or the output spikes
            ("readout_match" if cfg.readout == "integrator" else "spike_match"):
                float((out_lava == ref).mean()),
            "lava_samples": n,
            "train_seconds": round(train_s, 1),
            "lava_seconds": round(lava_s, 1),
            **{f"snn_accuracy_T{t}": acc for t, acc in sweep.items()},
            **energy.report_dict(report),
        }
        if curve:
            metrics.update(val_accuracy=max(curve), best_epoch=best_epoch)
        learned = {"thresholds": net.thresholds(), "leaks": net.leaks(),
                   "init_thresholds": thetas}
        for i, (theta, leak) in enumerate(zip(learned["thresholds"], learned["leaks"],
                                              strict=True)):
            metrics[f"threshold_layer{i + 1}"] = theta
            metrics[f"leak_layer{i + 1}"] = leak
        log(f"  seed {seed}: deployed accuracy {metrics['deployed_accuracy']:.4f}, Lava "
            f"agreement {metrics['agreement']:.4f} on {n} images")
        if seed == protocol.seeds[0]:
            _save_model(net, cfg, model_dir, experiment, input_shape)
            first.update(metrics=metrics, learned=learned, report=report, net=net,
                         files=[net_path.name, f"{experiment}.nir", f"{experiment}.pt"])
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    if not distributed.is_main():  # only rank 0 writes results, plots and model files
        return metrics
    ann_per_seed = extra["per_seed"]["ann_accuracy"]
    plot_sweep(sweeps, list(cfg.sweep_steps), ann_per_seed,
               out_dir / f"{experiment}_accuracy_vs_steps.png",
               title=f"DIET-SNN on {dataset} (trained at T={cfg.num_steps})")
    energy.plot_report(first["report"], out_dir / f"{experiment}_energy.png")
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="diet",
                  config={**asdict(cfg), "protocol": protocol.as_dict(),
                          "resumed": bool(resumed), "checkpoint_every": checkpoint_every,
                          # data parallel: each step saw world_size x batch_size images
                          **({"world_size": distributed.world_size()}
                             if distributed.world_size() > 1 else {})}, commit=commit,
                  extra={**extra, "learned": first["learned"],
                         "energy_table": energy.report_table(first["report"]),
                         "accuracy_vs_steps": {"steps": list(cfg.sweep_steps),
                                               "per_seed": sweeps},
                         "val_accuracy_per_epoch": curves, "resumed_seeds": resumed},
                  validation=info, headline=[k for k in HEADLINE if k in metrics],
                  paper={"deployed_accuracy": "CIFAR-10 VGG16 92.70% at T=5",
                         "snn_accuracy": "CIFAR-10 VGG16 92.70% at T=5",
                         "energy_ratio": "12x (ImageNet); 6-18x across tasks"},
                  allow_dirty=allow_dirty)
    net = first["net"]
    card = {"model": "DIET-SNN (SLAYER CUBA, learnable leak and threshold)",
            "dataset": dataset, "time_steps": cfg.num_steps, "delay_steps": net.delay,
            "input": "direct: 8-bit pixels p, x = p/256, repeated T steps + delay silent steps",
            "readout": cfg.readout, "neuron_engine": net.neuron_engine,
            # the .nir: time constants in seconds for this step; an integrator readout is
            # the graph's output current, summed over time by the caller
            "nir": {"dt": NIR_DT, "dt_unit": "s",
                    "readout": "affine" if cfg.readout == "integrator" else "spikes"},
            "config": asdict(cfg), "seed": protocol.seeds[0], "protocol": protocol.as_dict(),
            "validation": info, "metrics": first["metrics"], "learned": first["learned"],
            "files": first["files"], "results": str(out_dir / f"{experiment}.json"),
            "command": current_command(), "commit": commit}
    with atomic_open(model_dir / f"{experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    for plan in plans.values():  # finished: the checkpoints are spent
        plan.path.unlink(missing_ok=True)
    return metrics


def _save_model(net: DietSNN, cfg: DietConfig, model_dir: Path, experiment: str,
                input_shape: tuple[int, ...]) -> None:
    """The checkpoint (``.pt``, read by :func:`lava_thesis.diet.model.load_checkpoint`) and
    the NIR graph of the first seed's network, beside its ``.net``."""
    with atomic_path(model_dir / f"{experiment}.pt") as tmp:
        torch.save({"spec": list(cfg.spec), "input_shape": list(input_shape),
                    "num_steps": cfg.num_steps, "readout": cfg.readout,
                    "neuron_engine": net.neuron_engine, "state_dict": net.state_dict()}, tmp)
    net.export_nir(model_dir / f"{experiment}.nir", dt=NIR_DT)


def measure_saved_energy(
    model_path: str | Path,
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    samples: int = 500,
    allow_dirty: bool = False,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Energy report of a saved DIET checkpoint on the first ``samples`` test images (the
    network on ``device``).

    Writes ``<out_dir>/<model stem>_energy_check.json`` (per-layer table in ``extra``) and
    ``<model stem>_energy_check.png`` (the training run's own plot is ``_energy.png``); returns
    the metrics, with the torch accuracy on those images as a check that the right model and
    data were given. Raises FileNotFoundError / ValueError for a missing or foreign file.
    """
    from lava_thesis.diet.model import load_checkpoint

    net, steps = load_checkpoint(model_path)
    net.to(device)
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
