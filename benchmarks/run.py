"""`make bench`: throughput of the quickstart pipeline on this machine.

Measures SLAYER training (samples/s) and Lava CPU simulation (time steps/s, fixed_pt) of the
quickstart network on the shipped MNIST subset, and writes ``results/bench_quickstart.json``.
Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

import lava_thesis  # noqa: F401
from lava_thesis import quickstart as qs
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.deploy.netx_run import netx_output_spikes
from lava_thesis.experiments.quickstart import encode
from lava_thesis.results import write_results

RESULTS = Path(__file__).resolve().parents[1] / "results"


def main() -> None:
    torch.manual_seed(0)
    images, labels = load_shipped_mnist("train")
    spikes = encode(images, 16, seed=1)
    net = qs.DenseSNN()
    start = time.perf_counter()
    qs.train(net, spikes, labels, epochs=1)
    train_rate = len(labels) / (time.perf_counter() - start)
    start = time.perf_counter()
    qs.output_spikes(net, spikes)
    infer_rate = len(labels) / (time.perf_counter() - start)
    net_path = net.export_hdf5(RESULTS / "bench_quickstart.net")
    n = 200
    start = time.perf_counter()
    netx_output_spikes(net_path, spikes[:n])
    lava_s = time.perf_counter() - start
    net_path.unlink()
    metrics = {
        "slayer_train_samples_per_s": round(train_rate, 1),
        "slayer_inference_samples_per_s": round(infer_rate, 1),
        "lava_fixed_pt_steps_per_s": round(n * spikes.shape[-1] / lava_s, 1),
        "lava_fixed_pt_samples_per_s": round(n / lava_s, 2),
    }
    path = write_results(RESULTS, "bench_quickstart", dataset="MNIST (shipped subset)",
                         metrics=metrics, method="quickstart",
                         command="make bench", config={"num_steps": 16, "hidden": 128,
                                                       "batch_size": 32, "cpu_threads":
                                                       torch.get_num_threads()})
    for key, value in metrics.items():
        print(f"{key}: {value}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
