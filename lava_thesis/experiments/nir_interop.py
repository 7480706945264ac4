"""NIR into Lava, measured on MNIST: networks trained in snnTorch and in Norse, exported with
each library's own NIR exporter, imported with :func:`~lava_thesis.deploy.nir_import.import_nir`
and run in Lava's fixed-point simulator (``lava-thesis nir-interop``).

Per seed and peer library, the same rate-coded input (Poisson spikes, ``num_steps`` steps) goes
to the peer's own simulation of its network and to the imported netx network in Lava:

* snnTorch 1.0: ``Linear -> Synaptic -> Linear -> Leaky`` (reset to zero without delay, as
  Loihi resets), exported with ``snntorch.export_nir.export_to_nir``;
* Norse 1.1: ``Linear -> LIFBoxCell -> Linear -> LIFBoxCell`` (dt = 1 ms), exported with
  ``norse.torch.to_nir``. Norse 1.1's exporter writes a LIF's ``tau`` as
  ``dt / tau_mem_inv`` (8e-6 s for an 8 ms neuron at dt = 1 ms; its own importer reads
  ``tau_mem_inv = 1 / tau`` back), which under NIR's equations is a time constant below the
  step, refused by ``import_nir``. :func:`norse_graph` rescales it to seconds (``tau / dt``),
  the one change made to a peer's graph.

Both are trained by backpropagation through time with the peer's own surrogate gradient and a
cross-entropy loss on output spike counts, for a fixed number of epochs on the training split
less a validation split (its accuracy is recorded). The class is the output neuron with the
most spikes (ties to the lowest index) in both simulations. Reported per peer: the peer's test
accuracy (full test set), Lava's accuracy and the agreement of Lava's classes with the peer's
on the first ``lava_samples`` test images, and the share of those images whose ten output
spike counts are identical. Lava computes with 8-bit weights and 12-bit decays and states
rounded toward zero, the peers in float32: a voltage within that rounding of a threshold fires
in one and not the other.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.deploy.netx_run import netx_output_spikes
from lava_thesis.deploy.nir_import import import_nir
from lava_thesis.experiments.quickstart import encode
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.quickstart import pad_steps
from lava_thesis.results import current_command, git_commit, write_results

PEERS = ("snntorch", "norse")
NORSE_DT = 1e-3
NORSE_INIT_GAIN = 4.0
#: the modules each peer needs, and where they come from
PEER_MODULES = {"snntorch": ("snntorch", "snntorch.export_nir"), "norse": ("norse.torch",)}
HEADLINE = tuple(f"{peer}_{key}" for peer in PEERS for key in ("agreement", "lava_accuracy"))


@dataclass
class NirInteropConfig:
    """Network size, training and the Lava check (one config for both peers)."""

    num_steps: int = 16
    hidden: int = 128
    epochs: int = 2
    batch_size: int = 128
    lr: float = 2e-3
    lava_samples: int = 500
    seed: int = 0
    val_fraction: float = 0.1


def missing_peers() -> list[str]:
    """The peer modules that cannot be imported (``[]`` when both peers are installed)."""
    missing = []
    for module in (m for peer in PEERS for m in PEER_MODULES[peer]):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def snntorch_net(n_in: int, hidden: int, n_out: int) -> torch.nn.Sequential:
    """``Linear -> Synaptic -> Linear -> Leaky`` with per-neuron decays (alpha 0.75, beta
    0.875), threshold 1 and reset to zero; ``init_hidden`` states, so it maps one step's
    ``(B, n_in)`` input to ``(B, n_out)`` spikes."""
    snn = importlib.import_module("snntorch")
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden, bias=False),
        snn.Synaptic(alpha=torch.full((hidden,), 0.75), beta=torch.full((hidden,), 0.875),
                     threshold=torch.ones(hidden), reset_mechanism="zero", reset_delay=False,
                     init_hidden=True),
        torch.nn.Linear(hidden, n_out, bias=False),
        snn.Leaky(beta=torch.full((n_out,), 0.875), threshold=torch.ones(n_out),
                  reset_mechanism="zero", reset_delay=False, init_hidden=True),
    )


def norse_net(n_in: int, hidden: int, n_out: int) -> torch.nn.Module:
    """``Linear -> LIFBoxCell -> Linear -> LIFBoxCell`` (8 ms membranes at dt = 1 ms,
    threshold 0.5, reset to zero), per-neuron parameters (``nir.write`` cannot store 0-d
    tensors). The weights start at :data:`NORSE_INIT_GAIN` times torch's default: with the
    default, the box-current LIF (no synaptic current) barely spikes and training stalls
    (a trial run, one epoch on 3,000 MNIST images: 26.6% accuracy, 0.4 output spikes per
    image; with the gain 70.6%, 3.4 spikes)."""
    norse = importlib.import_module("norse.torch")

    def cell(n: int):
        return norse.LIFBoxCell(norse.LIFBoxParameters(
            tau_mem_inv=torch.full((n,), 125.0), v_th=torch.full((n,), 0.5),
            v_leak=torch.zeros(n), v_reset=torch.zeros(n)), dt=NORSE_DT)

    net = norse.SequentialState(torch.nn.Linear(n_in, hidden, bias=False), cell(hidden),
                                torch.nn.Linear(hidden, n_out, bias=False), cell(n_out))
    with torch.no_grad():
        net[0].weight.mul_(NORSE_INIT_GAIN)
        net[2].weight.mul_(NORSE_INIT_GAIN)
    return net


def spike_counts(peer: str, net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The peer's own simulation: output spike counts ``(B, n_out)`` for ``x`` ``(B, n_in,
    T)``, states starting at zero."""
    total = 0
    if peer == "snntorch":
        for module in net.modules():
            if hasattr(module, "reset_mem"):
                module.reset_mem()
        for t in range(x.shape[-1]):
            total = total + net(x[..., t])
        return total
    state = None
    for t in range(x.shape[-1]):
        out, state = net(x[..., t], state)
        total = total + out
    return total


def train_peer(peer: str, net: torch.nn.Module, x: np.ndarray, y: np.ndarray,
               cfg: NirInteropConfig, seed: int) -> None:
    """BPTT with the peer's surrogate gradient: Adam, cross-entropy on output spike counts,
    ``cfg.epochs`` epochs of shuffled mini-batches."""
    gen = torch.Generator().manual_seed(seed)
    optim = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    x_all, y_all = torch.from_numpy(x), torch.from_numpy(np.asarray(y, np.int64))
    net.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(y_all), generator=gen)
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            loss = torch.nn.functional.cross_entropy(spike_counts(peer, net, x_all[idx]),
                                                     y_all[idx])
            optim.zero_grad()
            loss.backward()
            optim.step()


@torch.no_grad()
def peer_counts(peer: str, net: torch.nn.Module, x: np.ndarray,
                batch_size: int = 1000) -> np.ndarray:
    """:func:`spike_counts` over ``x`` in batches, as a numpy array."""
    net.eval()
    return np.concatenate([spike_counts(peer, net, torch.from_numpy(x[i:i + batch_size]))
                           .numpy() for i in range(0, len(x), batch_size)])


def norse_graph(net: torch.nn.Module, n_in: int) -> Any:
    """Norse's own ``to_nir`` export, each LIF's ``tau`` rescaled to seconds (see the module
    docstring)."""
    import nir

    norse = importlib.import_module("norse.torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = norse.to_nir(net, torch.zeros(n_in), dt=NORSE_DT)
    for node in graph.nodes.values():
        if isinstance(node, nir.LIF):
            node.tau = np.asarray(node.tau) / NORSE_DT
    return graph


def peer_graph(peer: str, net: torch.nn.Module, n_in: int) -> Any:
    """The peer's NIR graph of ``net``, written by its own exporter."""
    if peer == "norse":
        return norse_graph(net, n_in)
    export = importlib.import_module("snntorch.export_nir").export_to_nir
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it prints and warns about its own internals
        return export(net, torch.zeros(n_in))


def predict(counts: np.ndarray) -> np.ndarray:
    """The class with the most output spikes (ties to the lowest index)."""
    return np.asarray(counts).argmax(1)


def one_peer(peer: str, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
             test: tuple[np.ndarray, np.ndarray], cfg: NirInteropConfig, seed: int,
             work: Path) -> dict[str, float]:
    """Train ``peer``'s network, export it with the peer's exporter, import it into netx and
    compare Lava with the peer on the test images (metrics prefixed with ``peer``)."""
    import nir

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = train, val, test
    torch.manual_seed(seed)
    build = snntorch_net if peer == "snntorch" else norse_net
    net = build(x_tr.shape[1], cfg.hidden, 10)
    t0 = time.perf_counter()
    train_peer(peer, net, x_tr, y_tr, cfg, seed)
    train_s = time.perf_counter() - t0
    counts_te = peer_counts(peer, net, x_te)
    graph_path, net_path = work / f"{peer}.nir", work / f"{peer}.net"
    nir.write(graph_path, peer_graph(peer, net, x_tr.shape[1]))
    import_nir(graph_path, net_path, dt=NORSE_DT if peer == "norse" else None)
    n = min(cfg.lava_samples, len(y_te))
    t1 = time.perf_counter()
    padded = pad_steps(x_te[:n], 2)  # one step of delay per layer
    counts_lava = netx_output_spikes(net_path, padded).sum(-1)
    lava_s = time.perf_counter() - t1
    pred_peer, pred_lava = predict(counts_te), predict(counts_lava)
    metrics = {
        "val_accuracy": float((predict(peer_counts(peer, net, x_va)) == y_va).mean())
        if len(y_va) else float("nan"),
        "accuracy": float((pred_peer == y_te).mean()),
        "accuracy_lava_subset": float((pred_peer[:n] == y_te[:n]).mean()),
        "lava_accuracy": float((pred_lava == y_te[:n]).mean()),
        "agreement": float((pred_lava == pred_peer[:n]).mean()),
        "count_match": float((counts_lava == counts_te[:n]).all(1).mean()),
        "train_seconds": round(train_s, 1), "lava_seconds": round(lava_s, 1),
    }
    return {f"{peer}_{key}": value for key, value in metrics.items()
            if not (key == "val_accuracy" and np.isnan(value))}


def run(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
        out_dir: str | Path, *, dataset: str = "mnist", config: NirInteropConfig | None = None,
        experiment: str = "nir_interop_mnist", log: Callable[[str], Any] = print,
        protocol: Protocol | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Both peers, one network each per seed; writes ``<out_dir>/<experiment>.json`` (per-seed
    values, their means, the validation split) and returns the metrics.

    Raises ``ImportError`` naming the missing modules when a peer is not installed (the test
    peers, ``requirements/test-peers.txt``)."""
    if missing := missing_peers():
        raise ImportError(f"nir-interop needs snnTorch and Norse; not importable: "
                          f"{', '.join(missing)} (install requirements/test-peers.txt)")
    cfg = config or NirInteropConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    commit = git_commit()
    (x_tr, y_tr), (x_va, y_va), info = split_training(train[0], train[1], protocol)
    x_te, y_te = test

    def one_seed(seed: int) -> dict[str, float]:
        s_tr, s_va, s_te = (encode(x, cfg.num_steps, seed=seed + k, pad=0)
                            for k, x in enumerate((x_tr, x_va, x_te), start=1))
        metrics: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as work:
            for peer in PEERS:
                m = one_peer(peer, (s_tr, y_tr), (s_va, y_va), (s_te, y_te), cfg, seed,
                             Path(work))
                log(f"  {peer}: accuracy {m[f'{peer}_accuracy']:.4f}, Lava "
                    f"{m[f'{peer}_lava_accuracy']:.4f}, agreement {m[f'{peer}_agreement']:.4f}"
                    f" on {min(cfg.lava_samples, len(y_te))} images")
                metrics.update(m)
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    metrics["lava_samples"] = min(cfg.lava_samples, len(y_te))
    write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="nir",
                  config={**asdict(cfg), "protocol": protocol.as_dict()}, commit=commit,
                  command=current_command(), validation=info,
                  headline=[k for k in HEADLINE if k in metrics], allow_dirty=allow_dirty,
                  extra={**extra, "peers": {"snntorch": "Linear-Synaptic-Linear-Leaky, "
                                                        "export_to_nir",
                                            "norse": "Linear-LIFBoxCell-Linear-LIFBoxCell, "
                                                     "to_nir (tau rescaled to seconds)"},
                         "lava": "imported with import_nir, Lava fixed_pt, first lava_samples "
                                 "test images; class = most output spikes"})
    return metrics
