"""The quickstart experiment: SLAYER dense SNN -> netx -> Lava, with accuracy and agreement.

Used by ``lava-thesis demo`` (shipped MNIST subset, offline) and ``lava-thesis train quickstart``
(full MNIST or Fashion-MNIST from the data directory). It follows the evaluation protocol
(:mod:`lava_thesis.protocol`): a validation split carved off the training images picks the
best epoch, and one network is trained per seed.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from lava_thesis import quickstart as qs
from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes
from lava_thesis.deploy.nir_export import DT_DEFAULT as NIR_DT
from lava_thesis.encoding import poisson_spikes
from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import (
    load_state,
    load_torch,
    require_keys,
    require_params,
    require_state_dict,
    require_steps,
)
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import current_command, git_commit, write_results
from lava_thesis.training import BestEpoch

#: the metrics the README table shows, the deployed (Lava-exact) accuracy first
HEADLINE = ("deployed_accuracy", "lava_accuracy", "agreement", "spike_match", "torch_accuracy",
            "val_accuracy")


@dataclass
class QuickstartConfig:
    """Settings of one quickstart run (stored in the results and the model card).

    ``seed`` is the seed of a run without an explicit :class:`~lava_thesis.protocol.Protocol`
    (and of the model whose files are written); ``val_fraction`` the share of each training
    class held out for validation in such a run; ``device`` where training and the torch
    evaluation run (``cpu``, ``cuda``, ``cuda:N``; export and Lava run on the CPU).
    """

    num_steps: int = 16
    hidden: int = 128
    epochs: int = 4
    batch_size: int = 32
    lr: float = 1e-2
    lava_samples: int = 500
    lava_tag: str = "fixed_pt"
    seed: int = 0
    val_fraction: float = 0.1
    device: str = "cpu"


def encode(images: np.ndarray, num_steps: int, seed: int, pad: int = 2) -> np.ndarray:
    """uint8 images ``(N, H, W)`` -> Poisson spikes ``(N, H*W, T + pad)`` float32, ``pad``
    silent steps at the end (2: the two layers' delays)."""
    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    spikes = poisson_spikes(flat, num_steps, seed=seed).astype(np.float32)
    return qs.pad_steps(spikes, pad) if pad else spikes


def _accuracy(out_spikes: np.ndarray, labels: np.ndarray) -> float:
    return float((qs.predict(out_spikes) == labels).mean())


def train_best_epoch(net: qs.DenseSNN, s_tr: np.ndarray, y_tr: np.ndarray, s_va: np.ndarray,
                     y_va: np.ndarray, cfg: QuickstartConfig, seed: int, log=print
                     ) -> tuple[list[float], int]:
    """Train ``net`` for ``cfg.epochs`` and keep the weights of its best validation epoch.

    After every epoch the network predicts the validation spikes ``s_va``; the state of the
    epoch with the highest validation accuracy (the latest one on ties) is restored at the end.
    With an empty validation set the final epoch is kept. Returns the validation accuracy per
    epoch (empty without validation data) and the chosen epoch (1-based).
    """
    history: list[float] = []
    best = BestEpoch(cfg.epochs)

    def on_epoch(epoch: int, train_acc: float) -> None:
        line = f"  epoch {epoch + 1}/{cfg.epochs}: train accuracy {train_acc:.3f}"
        if len(y_va):
            history.append(_accuracy(qs.output_spikes(net, s_va), y_va))
            line += f", validation {history[-1]:.3f}"
            best.offer(epoch + 1, history[-1], net)
        log(line)

    qs.train(net, s_tr, y_tr, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
             seed=seed, on_epoch=on_epoch, device=cfg.device)
    best.restore(net)
    net.cpu()  # exported and deployed from the CPU
    return history, best.epoch


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    config: QuickstartConfig | None = None,
    experiment: str = "quickstart",
    model_dir: str | Path | None = None,
    log=print,
    allow_dirty: bool = False,
    protocol: Protocol | None = None,
) -> dict[str, float]:
    """Train one network per seed, export it, run it in Lava; write ``<out_dir>/<experiment>.json``
    and the first seed's model files (``.net``, ``.pt``, ``.model_card.json``) to ``model_dir``
    (default: ``out_dir``).

    ``protocol`` gives the seeds and the validation split carved off ``train`` (None: one seed,
    ``config.seed``, and ``config.val_fraction``). The validation split picks the best epoch
    (:func:`train_best_epoch`); the test set is evaluated once per trained network, after that.

    Returns the metrics, each the mean over the seeds (per-seed values in the results file's
    ``extra.per_seed``):

    * ``deployed_accuracy`` (the headline): the accuracy on ALL test images of the network as
      exported, i.e. SLAYER's forward of the network after :meth:`DenseSNN.export_hdf5` folded
      the weight norm into the weights netx writes. SLAYER's forward quantizes the weights to
      Loihi's 8-bit grid and runs the CUBA-LIF dynamics in the same fixed-point arithmetic as
      Lava's ``fixed_pt`` models, so its output spikes are Lava's, bit for bit (checked on the
      Lava subset by ``spike_match``, 1.0 in every shipped run).
    * ``lava_accuracy``, ``agreement`` (prediction agreement Lava vs the deployed twin) and
      ``spike_match`` (fraction of identical output spikes) on the first ``lava_samples`` test
      images, run in Lava; ``torch_accuracy_lava_subset`` the torch accuracy on those images.
    * ``torch_accuracy``: the trained network's forward before the export (weight norm active).
    * ``val_accuracy`` and ``best_epoch`` (absent with an empty validation split); timings.
    """
    cfg = config or QuickstartConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0], val_fraction=protocol.val_fraction)
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    commit = git_commit()  # the code this run started from
    (x_all, y_all), (x_te, y_te) = train, test
    (x_tr, y_tr), (x_va, y_va), info = split_training(x_all, y_all, protocol)
    n_out = int(max(np.max(y_all), np.max(y_te))) + 1
    log(f"  validation split: {info['train']} training, {info['val']} validation images")
    curves: dict[str, list[float]] = {}
    cards: dict[int, dict] = {}

    def one_seed(seed: int) -> dict[str, float]:
        torch.manual_seed(seed)
        s_tr = encode(x_tr, cfg.num_steps, seed=seed + 1)
        s_te = encode(x_te, cfg.num_steps, seed=seed + 2)
        s_va = encode(x_va, cfg.num_steps, seed=seed + 3)
        net = qs.DenseSNN(n_in=s_tr.shape[1], hidden=cfg.hidden, n_out=n_out)
        t0 = time.perf_counter()
        val_curve, best_epoch = train_best_epoch(net, s_tr, y_tr, s_va, y_va, cfg, seed, log)
        train_s = time.perf_counter() - t0
        curves[str(seed)] = val_curve
        out_torch = qs.output_spikes(net, s_te)
        pred_torch = qs.predict(out_torch)
        first = seed == protocol.seeds[0]
        with tempfile.TemporaryDirectory() as scratch:
            folder = model_dir if first else Path(scratch)
            net_path = net.export_hdf5(folder / f"{experiment}.net")  # folds the weight norm
            if first:  # the .pt holds exactly the exported weights
                with atomic_path(model_dir / f"{experiment}.pt") as tmp:
                    torch.save(net.state_dict(), tmp)
                net.export_nir(model_dir / f"{experiment}.nir", dt=NIR_DT)
            out_deployed = qs.output_spikes(net, s_te)  # SLAYER's twin of the exported net
            pred_deployed = qs.predict(out_deployed)
            n = min(cfg.lava_samples, len(s_te))
            log(f"  running {n} test samples in Lava ({cfg.lava_tag}, Loihi2SimCfg)...")
            t0 = time.perf_counter()
            out_lava = netx_output_spikes(net_path, s_te[:n], tag=cfg.lava_tag)
            lava_s = time.perf_counter() - t0
        pred_lava = qs.predict(out_lava)
        metrics = {
            "deployed_accuracy": float((pred_deployed == y_te).mean()),
            "torch_accuracy": float((pred_torch == y_te).mean()),
            "torch_accuracy_lava_subset": float((pred_torch[:n] == y_te[:n]).mean()),
            "lava_accuracy": float((pred_lava == y_te[:n]).mean()),
            "agreement": float((pred_lava == pred_deployed[:n]).mean()),
            "spike_match": float((out_lava == out_deployed[:n]).mean()),
            "lava_samples": n,
            "train_seconds": round(train_s, 2),
            "lava_seconds": round(lava_s, 2),
            "lava_steps_per_second": round(n * s_te.shape[-1] / max(lava_s, 1e-9), 1),
        }
        if val_curve:
            metrics.update(val_accuracy=max(val_curve), best_epoch=best_epoch)
        log(f"  seed {seed}: deployed accuracy {metrics['deployed_accuracy']:.4f}, Lava "
            f"agreement {metrics['agreement']:.4f} on {n} images")
        if first:
            cards[seed] = {"metrics": metrics, "files": [net_path.name, f"{experiment}.nir",
                                                         f"{experiment}.pt"]}
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="quickstart",
                  config={**asdict(cfg), "protocol": protocol.as_dict()}, commit=commit,
                  extra={**extra, "val_accuracy_per_epoch": curves}, validation=info,
                  headline=[k for k in HEADLINE if k in metrics], allow_dirty=allow_dirty)
    seed = protocol.seeds[0]
    card = {"model": "quickstart DenseSNN (SLAYER CUBA-LIF)", "dataset": dataset,
            "input": f"Poisson spikes, {cfg.num_steps} steps + 2 silent", "config": asdict(cfg),
            "seed": seed, "protocol": protocol.as_dict(), "validation": info,
            "metrics": cards[seed]["metrics"], "files": cards[seed]["files"],
            # the .nir: time constants in seconds for this step, output spikes as the readout
            "nir": {"dt": NIR_DT, "dt_unit": "s", "readout": "spikes"},
            "results": str(out_dir / f"{experiment}.json"), "command": current_command(),
            "commit": commit}
    with atomic_open(model_dir / f"{experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics


def load_model(state_path: str | Path) -> tuple[qs.DenseSNN, QuickstartConfig]:
    """Rebuild a trained quickstart network from ``<name>.pt`` and ``<name>.model_card.json``.

    Raises ``FileNotFoundError`` when either file is missing and
    :class:`~lava_thesis.errors.ModelFileError` naming the file when the card has no valid
    ``config`` (the :class:`QuickstartConfig` fields with their types, ``num_steps`` in
    ``[1, MAX_STEPS]``) or the state dict is unreadable, lacks the two dense layers' weights, holds
    non-finite values or does not fit the network its shapes describe.
    """
    state_path = Path(state_path)
    card_path = state_path.with_suffix(".model_card.json")
    expected = "a quickstart DenseSNN state dict written by train quickstart"
    if not state_path.is_file():
        raise FileNotFoundError(f"model state file not found: {state_path}")
    if not card_path.is_file():
        raise FileNotFoundError(f"model card not found beside the model: {card_path}")
    card_expected = "a quickstart model card (JSON with a 'config' object)"
    try:
        config = json.loads(card_path.read_bytes())["config"]
    except (KeyError, TypeError, ValueError, RecursionError) as err:
        raise ModelFileError(card_path, f"no valid 'config' ({err})", card_expected) from err
    if not isinstance(config, dict):
        raise ModelFileError(card_path, f"'config' is a {type(config).__name__}",
                             card_expected)
    cfg = require_params(card_path, "config", config, QuickstartConfig, card_expected)
    require_steps(card_path, "config.num_steps", cfg.num_steps, card_expected)
    state = require_state_dict(state_path, load_torch(state_path, expected), expected)
    normed = "blocks.0.synapse.weight_v" in state  # saved before export folded the norm
    key = "weight_v" if normed else "weight"
    names = (f"blocks.0.synapse.{key}", f"blocks.1.synapse.{key}")
    require_keys(state_path, state, names, expected)
    first, last = state[names[0]], state[names[1]]
    if first.ndim < 2 or last.ndim < 2 or min(first.shape[:2]) < 1 or last.shape[0] < 1:
        raise ModelFileError(state_path, f"dense weights have shapes {tuple(first.shape)} and "
                                         f"{tuple(last.shape)}", expected)
    net = qs.DenseSNN(n_in=first.shape[1], hidden=first.shape[0], n_out=last.shape[0])
    if not normed:
        for block in net.blocks:
            block.synapse.disable_weight_norm()
    load_state(state_path, net, state, expected)
    return net, cfg
