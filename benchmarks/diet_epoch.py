"""Benchmark: one DIET-SNN training epoch with our torch-native CUBA kernel, with SLAYER's
neuron, in snnTorch and in SpikingJelly, on the same network.

Same layers (the default DIET spec), same direct input (T = 5 steps + one silent step per
layer), same batch size, optimiser (Adam, lr 1e-3) and loss (cross-entropy on output spike
counts), on the shipped MNIST subset (2,000 images), CPU, one process:

* ours: :class:`~lava_thesis.diet.DietSNN` with ``neuron_engine="torch"`` (the default), trained
  by :func:`~lava_thesis.diet.train.train_snn`;
* SLAYER: the same with ``neuron_engine="slayer"`` (lava-dl's CUBA neuron, its Python time loop);
* snnTorch 1.0: the ANN's layers, each followed by ``snn.Leaky`` with learnable leak and
  threshold, stepped through time in Python (single-step modules);
* SpikingJelly 2.0: the ANN's layers wrapped by ``layer.SeqToANNContainer`` and
  ``neuron.ParametricLIFNode`` (learnable leak; threshold fixed, which SpikingJelly's PLIF does
  not learn) in multi-step mode (``step_mode="m"``), torch backend.

Each engine trains one epoch after one warm-up batch; the engines run one after another, in
the same process, with the same thread count. The peers are test-only dependencies
(``requirements/test-peers.txt``). Writes ``results/bench_diet_epoch.json``. Not a test:
numbers depend on the machine.

``--device cuda`` (or ``cuda:N``) times the four engines on that GPU instead and writes
``results/bench_gpu.json``; ``--spec vgg16`` there times our kernel alone on ``--batches``
batches of random 3x32x32 images (CIFAR-10's shape, no data needed) and extrapolates one
50,000-image epoch at T = 5.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

import lava_thesis  # noqa: F401
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.diet import DietSNN
from lava_thesis.diet.ann import build_ann
from lava_thesis.diet.train import TrainConfig, snn_input, train_snn
from lava_thesis.experiments.diet import DEFAULT_SPEC, VGG16_SPEC
from lava_thesis.results import write_results

RESULTS = Path(__file__).resolve().parents[1] / "results"
CPU = torch.device("cpu")
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


class SpikingJellyNet(torch.nn.Module):
    """The DIET spec in SpikingJelly, multi-step: each weight layer applied to all steps at
    once (``SeqToANNContainer``), then a ``ParametricLIFNode`` (learnable leak, hard reset to
    zero, threshold 0.5) over the time axis."""

    def __init__(self) -> None:
        super().__init__()
        from spikingjelly.activation_based import layer, neuron

        modules: list[torch.nn.Module] = []
        for m in build_ann(DEFAULT_SPEC, (1, 28, 28)):
            if isinstance(m, torch.nn.ReLU):
                continue
            modules.append(layer.SeqToANNContainer(m))
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                modules.append(neuron.ParametricLIFNode(init_tau=2.0, v_threshold=0.5,
                                                        v_reset=0.0, step_mode="m"))
        self.body = torch.nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, C, H, W, steps)
        from spikingjelly.activation_based import functional

        functional.reset_net(self)
        return self.body(x.permute(4, 0, 1, 2, 3).contiguous()).sum(0)  # (steps, N, ...)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peer_epoch(net: torch.nn.Module, images: np.ndarray, labels: np.ndarray,
                device: torch.device = CPU) -> float:
    """Seconds for one epoch of a peer network (after one warm-up batch) on ``device``."""
    net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    y = torch.as_tensor(labels).to(device)
    order = np.random.default_rng(0).permutation(len(labels))

    def step(idx) -> None:
        x = snn_input(images[idx], T, 5).to(device)
        loss = torch.nn.functional.cross_entropy(net(x), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(order[:BATCH])
    _sync(device)
    start = time.perf_counter()
    for i in range(0, len(order), BATCH):
        step(order[i:i + BATCH])
    _sync(device)
    return time.perf_counter() - start


def time_snntorch(images: np.ndarray, labels: np.ndarray,
                  device: torch.device = CPU) -> float:
    torch.manual_seed(0)
    return _peer_epoch(SnnTorchNet(), images, labels, device)


def time_spikingjelly(images: np.ndarray, labels: np.ndarray,
                      device: torch.device = CPU) -> float:
    torch.manual_seed(0)
    return _peer_epoch(SpikingJellyNet(), images, labels, device)


def time_diet(images: np.ndarray, labels: np.ndarray, engine: str, device: str = "cpu",
              spec: tuple[str, ...] = DEFAULT_SPEC) -> float:
    """One epoch of DietSNN on ``engine`` ("torch": ours, "slayer") on ``device``, after a
    warm-up batch (train_snn reads its accuracy back once per epoch, which synchronises)."""
    torch.manual_seed(0)
    n_weights = sum(item[0] in "cd" for item in spec)
    net = DietSNN(spec, images.shape[1:] if images.ndim == 4 else (1, *images.shape[1:]),
                  thresholds=[0.5] * n_weights, neuron_engine=engine)
    cfg = TrainConfig(epochs=1, batch_size=BATCH, device=device)
    train_snn(net, images[:BATCH], labels[:BATCH], T, cfg)
    start = time.perf_counter()
    train_snn(net, images, labels, T, cfg)
    return time.perf_counter() - start


def gpu(device: str, spec: str, batches: int) -> None:
    """The ``--device`` run: ``results/bench_gpu.json``."""
    dev = torch.device(device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else device
    if spec == "vgg16":
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (batches * BATCH, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, len(images))
        seconds = time_diet(images, labels, "torch", device, VGG16_SPEC)
        rate = len(images) / seconds
        metrics = {"vgg16_samples_per_s": round(rate, 1),
                   "vgg16_epoch_50k_minutes": round(50_000 / rate / 60, 2)}
        data = f"random 3x32x32 uint8 images ({len(images)}), CIFAR-10's shape"
    else:
        images, labels = load_shipped_mnist("train")
        seconds = {"ours": time_diet(images, labels, "torch", device),
                   "slayer": time_diet(images, labels, "slayer", device),
                   "snntorch": time_snntorch(images, labels, dev),
                   "spikingjelly": time_spikingjelly(images, labels, dev)}
        metrics = {f"{k}_samples_per_s": round(len(labels) / v, 1) for k, v in seconds.items()}
        data = "MNIST (shipped subset, 2000 images)"
    write_results(RESULTS, "bench_gpu", dataset=data, metrics=metrics, method="diet",
                  command=f"python benchmarks/diet_epoch.py --device {device} --spec {spec}",
                  config={"device": device, "device_name": name, "spec": spec, "T": T,
                          "batch_size": BATCH})
    for key, value in metrics.items():
        print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> None:
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (the peer comparison, "
                        "bench_diet_epoch.json) or cuda[:N] (bench_gpu.json)")
    parser.add_argument("--spec", choices=("small", "vgg16"), default="small")
    parser.add_argument("--batches", type=int, default=20, help="vgg16: batches timed")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # the peers' deprecation warnings
    if args.device != "cpu" or args.spec != "small":
        gpu(args.device, args.spec, args.batches)
        return
    images, labels = load_shipped_mnist("train")
    seconds = {"ours": time_diet(images, labels, "torch"),
               "slayer": time_diet(images, labels, "slayer"),
               "snntorch": time_snntorch(images, labels),
               "spikingjelly": time_spikingjelly(images, labels)}
    metrics: dict[str, float] = {}
    for name, value in seconds.items():
        metrics[f"{name}_epoch_seconds"] = round(value, 2)
        metrics[f"{name}_samples_per_s"] = round(len(labels) / value, 1)
    for name in ("slayer", "snntorch", "spikingjelly"):  # > 1: ours is faster
        metrics[f"{name}_over_ours_time"] = round(seconds[name] / seconds["ours"], 2)
    write_results(RESULTS, "bench_diet_epoch", dataset="MNIST (shipped subset, 2000 images)",
                  metrics=metrics, method="diet", command="make bench",
                  config={"spec": list(DEFAULT_SPEC), "T": T, "batch_size": BATCH,
                          "cpu_threads": torch.get_num_threads(), "optimizer": "Adam 1e-3",
                          "warm_up_batches": 1},
                  extra={"engines": {
                      "ours": "DietSNN, neuron_engine='torch' (torch-native CUBA kernel)",
                      "slayer": "DietSNN, neuron_engine='slayer' (lava-dl CUBA neuron)",
                      "snntorch": "snnTorch 1.0 Leaky (learnable beta, threshold), "
                                  "single-step loop",
                      "spikingjelly": "SpikingJelly 2.0 ParametricLIFNode, multi-step, "
                                      "torch backend"}})
    for key, value in metrics.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
