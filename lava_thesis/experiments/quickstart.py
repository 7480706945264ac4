"""The quickstart experiment: SLAYER dense SNN -> netx -> Lava, with accuracy and agreement.

Used by ``lava-thesis demo`` (shipped MNIST subset, offline) and ``lava-thesis train quickstart``
(full MNIST or Fashion-MNIST from the data directory).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis import quickstart as qs
from lava_thesis.atomic import atomic_open, atomic_path
from lava_thesis.deploy.netx_run import netx_output_spikes
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
from lava_thesis.results import current_command, git_commit, write_results


@dataclass
class QuickstartConfig:
    """Settings of one quickstart run (stored in the results and the model card)."""

    num_steps: int = 16
    hidden: int = 128
    epochs: int = 4
    batch_size: int = 32
    lr: float = 1e-2
    lava_samples: int = 500
    lava_tag: str = "fixed_pt"
    seed: int = 0


def encode(images: np.ndarray, num_steps: int, seed: int) -> np.ndarray:
    """uint8 images ``(N, H, W)`` -> Poisson spikes ``(N, H*W, T + 2)`` float32 (padded)."""
    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    spikes = poisson_spikes(flat, num_steps, seed=seed).astype(np.float32)
    return qs.pad_steps(spikes, 2)


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
) -> dict[str, float]:
    """Train, export, run in Lava; write ``<out_dir>/<experiment>.json`` and the model files
    (``.net``, ``.pt``, ``.model_card.json``) to ``model_dir`` (default: ``out_dir``).

    Returns the metrics: ``torch_accuracy`` (all test images), ``lava_accuracy`` and
    ``agreement`` (prediction agreement torch vs Lava on the first ``lava_samples`` images),
    ``spike_match`` (fraction of identical output spikes), timings.
    """
    cfg = config or QuickstartConfig()
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    torch.manual_seed(cfg.seed)
    commit = git_commit()  # the code this run started from
    (x_tr, y_tr), (x_te, y_te) = train, test
    s_tr = encode(x_tr, cfg.num_steps, seed=cfg.seed + 1)
    s_te = encode(x_te, cfg.num_steps, seed=cfg.seed + 2)
    net = qs.DenseSNN(n_in=s_tr.shape[1], hidden=cfg.hidden, n_out=int(y_tr.max()) + 1)

    t0 = time.perf_counter()
    qs.train(net, s_tr, y_tr, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
             seed=cfg.seed,
             on_epoch=lambda e, acc: log(f"  epoch {e + 1}/{cfg.epochs}: train accuracy {acc:.3f}"))
    train_s = time.perf_counter() - t0
    out_torch = qs.output_spikes(net, s_te)
    pred_torch = qs.predict(out_torch)

    with atomic_path(model_dir / f"{experiment}.pt") as tmp:
        torch.save(net.state_dict(), tmp)
    net_path = net.export_hdf5(model_dir / f"{experiment}.net")  # folds SLAYER's weight norm
    n = min(cfg.lava_samples, len(s_te))
    log(f"  running {n} test samples in Lava ({cfg.lava_tag}, Loihi2SimCfg)...")
    t0 = time.perf_counter()
    out_lava = netx_output_spikes(net_path, s_te[:n], tag=cfg.lava_tag)
    lava_s = time.perf_counter() - t0
    pred_lava = qs.predict(out_lava)

    metrics = {
        "torch_accuracy": float((pred_torch == y_te).mean()),
        "torch_accuracy_lava_subset": float((pred_torch[:n] == y_te[:n]).mean()),
        "lava_accuracy": float((pred_lava == y_te[:n]).mean()),
        "agreement": float((pred_lava == pred_torch[:n]).mean()),
        "spike_match": float((out_lava == out_torch[:n]).mean()),
        "lava_samples": n,
        "train_seconds": round(train_s, 2),
        "lava_seconds": round(lava_s, 2),
        "lava_steps_per_second": round(n * s_te.shape[-1] / lava_s, 1),
    }
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="quickstart",
                  config=asdict(cfg), commit=commit,
                  headline=["torch_accuracy", "lava_accuracy", "agreement", "spike_match"],
                  allow_dirty=allow_dirty)
    card = {"model": "quickstart DenseSNN (SLAYER CUBA-LIF)", "dataset": dataset,
            "input": f"Poisson spikes, {cfg.num_steps} steps + 2 silent", "config": asdict(cfg),
            "metrics": metrics, "files": [net_path.name, f"{experiment}.pt"],
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
