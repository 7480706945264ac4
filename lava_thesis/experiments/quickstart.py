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
                  headline=["torch_accuracy", "lava_accuracy", "agreement", "spike_match"])
    card = {"model": "quickstart DenseSNN (SLAYER CUBA-LIF)", "dataset": dataset,
            "input": f"Poisson spikes, {cfg.num_steps} steps + 2 silent", "config": asdict(cfg),
            "metrics": metrics, "files": [net_path.name, f"{experiment}.pt"],
            "results": str(out_dir / f"{experiment}.json"), "command": current_command(),
            "commit": commit}
    with atomic_open(model_dir / f"{experiment}.model_card.json") as handle:
        json.dump(card, handle, indent=2)
    return metrics


def load_model(state_path: str | Path) -> tuple[qs.DenseSNN, QuickstartConfig]:
    """Rebuild a trained quickstart network from ``<name>.pt`` and ``<name>.model_card.json``."""
    state_path = Path(state_path)
    card_path = state_path.with_suffix(".model_card.json")
    if not state_path.is_file():
        raise FileNotFoundError(f"model state file not found: {state_path}")
    if not card_path.is_file():
        raise FileNotFoundError(f"model card not found beside the model: {card_path}")
    try:
        cfg = QuickstartConfig(**json.loads(card_path.read_text())["config"])
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"{card_path}: not a quickstart model card ({err})") from err
    state = torch.load(state_path, map_location="cpu", weights_only=True)
    normed = "blocks.0.synapse.weight_v" in state  # saved before export folded the norm
    key = "weight_v" if normed else "weight"
    try:
        first, last = state[f"blocks.0.synapse.{key}"], state[f"blocks.1.synapse.{key}"]
    except KeyError as err:
        raise ValueError(f"{state_path}: not a quickstart DenseSNN state dict ({err})") from err
    net = qs.DenseSNN(n_in=first.shape[1], hidden=first.shape[0], n_out=last.shape[0])
    if not normed:
        for block in net.blocks:
            block.synapse.disable_weight_norm()
    net.load_state_dict(state)
    return net, cfg
