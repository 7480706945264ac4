"""Benchmark: SLAYER's CUBA neuron vs the torch-native one (lava_thesis.slayer_ext.cuba).

Times forward + backward of one DIET-SNN training batch (the default DIET spec, 64 MNIST-sized
direct inputs, T = 5 steps + one silent step per layer, cross-entropy on spike counts) with
SLAYER's neuron in every block and with the torch-native neuron in every block, and the same for
the neuron part alone (each block's synaptic input ``z`` recorded once, then only the neuron's
forward + backward timed). Also checks that both networks give identical output spikes and
reports the largest gradient difference. Each thread count in ``--threads`` is timed in turn;
SLAYER and ours are timed alternately and the speed-up is the median per-round ratio.

Writes ``results/bench_cuba_kernel.json`` from a clean tree, otherwise (or with ``--out``) into
another directory (default ``out/``). Not a test: numbers depend on the machine.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/cuba_kernel.py --threads 1 2``
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import lava_thesis  # noqa: F401
from lava_thesis.diet import DietSNN
from lava_thesis.diet.train import snn_input
from lava_thesis.experiments.diet import DEFAULT_SPEC
from lava_thesis.results import DirtyTreeError, write_results
from lava_thesis.slayer_ext.cuba import neuron_forward

ROOT = Path(__file__).resolve().parents[1]
T, BATCH = 5, 64


def build_pair() -> tuple[DietSNN, DietSNN]:
    """The DIET network with SLAYER's neuron, and a copy that runs on ours."""
    torch.manual_seed(0)
    ref = DietSNN(DEFAULT_SPEC, thresholds=[0.5] * 5, neuron_engine="slayer")
    ours = copy.deepcopy(ref)
    ours.neuron_engine = "torch"
    return ref, ours


def batch_input() -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(BATCH, 28, 28), dtype=np.uint8)
    labels = torch.as_tensor(rng.integers(0, 10, size=BATCH))
    return snn_input(images, T, 5), labels


def step(net: DietSNN, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Forward + backward of one batch; returns the output spikes."""
    net.zero_grad(set_to_none=True)
    out = net(x)
    torch.nn.functional.cross_entropy(net.scores(out), y).backward()
    return out


def interleaved(fn_a, fn_b, reps: int) -> tuple[float, float, float]:
    """Median seconds of ``fn_a`` and ``fn_b``, timed alternately (so that load from other
    processes hits both alike), and the median of the per-round ratio a / b."""
    fn_a(), fn_b()  # warm-up
    a, b = [], []
    for _ in range(reps):
        for fn, times in ((fn_a, a), (fn_b, b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
    return statistics.median(a), statistics.median(b), ratio


def neuron_inputs(net: DietSNN, x: torch.Tensor) -> list[torch.Tensor]:
    """Each weight block's synaptic input ``z`` for ``x`` (detached)."""
    zs = []
    with torch.no_grad():
        for block in net.blocks:
            if hasattr(block, "neuron"):
                zs.append(block.synapse(x).detach())
            x = block(x)
    return zs


def neuron_step(neurons, zs, ours: bool) -> None:
    for neuron, z in zip(neurons, zs, strict=True):
        z = z.clone().requires_grad_(True)
        s = neuron_forward(neuron, z) if ours else neuron(z)
        s.sum().backward()


def measure(threads: int, reps: int) -> dict[str, float]:
    torch.set_num_threads(threads)
    ref, ours = build_pair()
    x, y = batch_input()
    out_ref, out_ours = step(ref, x, y), step(ours, x, y)
    grad_diff = max(float((p1.grad - p2.grad).abs().max())
                    for p1, p2 in zip(ref.parameters(), ours.parameters(), strict=True)
                    if p1.grad is not None)
    zs = neuron_inputs(ref, x)
    neurons_ref = [b.neuron for b in ref.weight_blocks]
    neurons_ours = [b.neuron for b in ours.weight_blocks]
    net_ref, net_ours, net_ratio = interleaved(lambda: step(ref, x, y),
                                               lambda: step(ours, x, y), reps)
    neu_ref, neu_ours, neu_ratio = interleaved(lambda: neuron_step(neurons_ref, zs, False),
                                               lambda: neuron_step(neurons_ours, zs, True), reps)
    return {
        f"t{threads}_network_slayer_ms": round(1e3 * net_ref, 1),
        f"t{threads}_network_cuba_ms": round(1e3 * net_ours, 1),
        f"t{threads}_network_speedup": round(net_ratio, 2),
        f"t{threads}_neuron_slayer_ms": round(1e3 * neu_ref, 1),
        f"t{threads}_neuron_cuba_ms": round(1e3 * neu_ours, 1),
        f"t{threads}_neuron_speedup": round(neu_ratio, 2),
        f"t{threads}_spikes_identical": int(torch.equal(out_ref, out_ours)),
        f"t{threads}_max_abs_grad_diff": grad_diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[torch.get_num_threads()])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: results/, or out/ if the tree is dirty)")
    args = parser.parse_args()
    metrics: dict[str, float] = {}
    for n in args.threads:
        metrics.update(measure(n, args.reps))
    kwargs = {"dataset": "random MNIST-sized images (28x28 uint8)", "metrics": metrics,
              "method": "diet",
              "config": {"spec": list(DEFAULT_SPEC), "T": T, "pad": 5, "batch_size": BATCH,
                         "threads": args.threads, "reps": args.reps,
                         "torch": torch.__version__}}
    out_dir = args.out or ROOT / "results"
    try:
        path = write_results(out_dir, "bench_cuba_kernel", **kwargs)
    except DirtyTreeError:
        path = write_results(ROOT / "out", "bench_cuba_kernel", **kwargs)
    print(f"wrote {path}")
    for key, value in metrics.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
