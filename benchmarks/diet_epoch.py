"""Benchmark: one DIET-SNN training epoch in SLAYER (ours) vs the same network in snnTorch.

Same layers (the default DIET spec), same direct input (T = 5 steps + one silent step per
layer), same batch size and optimiser, on the shipped MNIST subset (2,000 images), CPU.
snnTorch is installed only for this benchmark (``make bench`` does it). Writes
``results/bench_diet_epoch.json``. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

import lava_thesis  # noqa: F401
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.diet import DietSNN
from lava_thesis.diet.ann import build_ann
from lava_thesis.diet.train import TrainConfig, snn_input, train_snn
from lava_thesis.experiments.diet import DEFAULT_SPEC
from lava_thesis.results import write_results

RESULTS = Path(__file__).resolve().parents[1] / "results"
T, BATCH = 5, 64


class SnnTorchNet(torch.nn.Module):
    """The DIET spec in snnTorch: the ANN's layers, each followed by a Leaky neuron with
    learnable leak (beta) and threshold, stepped through time in Python."""

    def __init__(self) -> None:
        super().__init__()
        import snntorch as snn

        self.layers = [m for m in build_ann(DEFAULT_SPEC, (1, 28, 28))
                       if not isinstance(m, torch.nn.ReLU)]
        self.synapses = torch.nn.ModuleList(self.layers)
        n = sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in self.layers)
        self.neurons = torch.nn.ModuleList(
            snn.Leaky(beta=0.99, threshold=0.5, learn_beta=True, learn_threshold=True,
                      reset_mechanism="zero") for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, C, H, W, steps)
        mems = [neuron.init_leaky() for neuron in self.neurons]
        counts = 0
        for t in range(x.shape[-1]):
            h, k = x[..., t], 0
            for layer in self.layers:
                h = layer(h)
                if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                    h, mems[k] = self.neurons[k](h, mems[k])
                    k += 1
            counts = counts + h
        return counts


def time_snntorch(images: np.ndarray, labels: np.ndarray) -> float:
    torch.manual_seed(0)
    net = SnnTorchNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    y = torch.as_tensor(labels)
    order = np.random.default_rng(0).permutation(len(labels))
    start = time.perf_counter()
    for i in range(0, len(order), BATCH):
        idx = order[i:i + BATCH]
        loss = torch.nn.functional.cross_entropy(net(snn_input(images[idx], T, 5)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def time_slayer(images: np.ndarray, labels: np.ndarray) -> float:
    torch.manual_seed(0)
    net = DietSNN(DEFAULT_SPEC, thresholds=[0.5] * 5)
    start = time.perf_counter()
    train_snn(net, images, labels, T, TrainConfig(epochs=1, batch_size=BATCH))
    return time.perf_counter() - start


def main() -> None:
    images, labels = load_shipped_mnist("train")
    slayer_s = time_slayer(images, labels)
    snntorch_s = time_snntorch(images, labels)
    metrics = {
        "slayer_epoch_seconds": round(slayer_s, 2),
        "snntorch_epoch_seconds": round(snntorch_s, 2),
        "slayer_samples_per_s": round(len(labels) / slayer_s, 1),
        "snntorch_samples_per_s": round(len(labels) / snntorch_s, 1),
        "slayer_over_snntorch_time": round(slayer_s / snntorch_s, 2),
    }
    write_results(RESULTS, "bench_diet_epoch", dataset="MNIST (shipped subset, 2000 images)",
                  metrics=metrics, method="diet", command="make bench",
                  config={"spec": list(DEFAULT_SPEC), "T": T, "batch_size": BATCH,
                          "cpu_threads": torch.get_num_threads()})
    for key, value in metrics.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
