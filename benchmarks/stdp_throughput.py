"""`make bench`: training throughput of the STDP network (350 + 150 steps per image) in the numba
engine at 400, 1,600 and 6,400 excitatory neurons on 1 and 2 threads, and in Lava's CPU
simulator at the first size (400), on the shipped MNIST subset.

Every engine run trains a fresh network (seed 0) on the same images, so the runs of one size
do the same work; the 1- and 2-thread runs must end with identical weights and thetas (checked
here, recorded as ``threads_bit_identical``). Writes ``results/bench_stdp.json`` (``--out`` for
another folder). Not a test: numbers depend on the machine and its load (recorded as
``load_average``). (BindsNET, the reference Diehl & Cook implementation, was not benchmarked:
its last release needs torch >= 2.14 and numpy 2, which this environment's CPU torch 2.13 /
lava stack cannot share.)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numba
import numpy as np

import lava_thesis  # noqa: F401
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.experiments.stdp import TUNED
from lava_thesis.results import write_results
from lava_thesis.stdp import STDPNetwork, STDPParams
from lava_thesis.stdp.engine import poisson_raster
from lava_thesis.stdp.lava_net import lava_run_raster

RESULTS = Path(__file__).resolve().parents[1] / "results"
#: images per engine run for each size (a short run: seconds per run on 2 cores)
SAMPLES = {400: 400, 1600: 300, 6400: 200}


def engine_throughput(images: np.ndarray, n_exc: int, threads: int,
                      samples: int) -> tuple[float, float, STDPNetwork]:
    """Train a fresh network on ``images[:samples]`` on ``threads`` threads; return (samples/s,
    presentations/s, the network). A warm-up on another network loads the compiled kernel."""
    params = STDPParams(n_exc=n_exc, **TUNED)
    STDPNetwork(params, seed=1, threads=threads).train(images[:5])
    net = STDPNetwork(params, seed=0, threads=threads)
    start = time.perf_counter()
    used = net.train(images[:samples])
    seconds = time.perf_counter() - start
    return samples / seconds, used / seconds, net


def main(out: Path = RESULTS, sizes: tuple[int, ...] = (400, 1600, 6400),
         threads: tuple[int, ...] = (1, 2), lava_images: int = 4) -> None:
    images, _ = load_shipped_mnist("train")
    images = images.reshape(len(images), -1)
    threads = tuple(k for k in threads if k <= numba.config.NUMBA_NUM_THREADS)
    load_before = os.getloadavg()
    metrics: dict[str, float | int] = {}
    identical = True
    for n_exc in sizes:
        samples = SAMPLES.get(n_exc, 200)
        nets = []
        for k in threads:
            rate, presentations, net = engine_throughput(images, n_exc, k, samples)
            metrics[f"engine_{n_exc}_t{k}_samples_per_s"] = round(rate, 1)
            metrics[f"engine_{n_exc}_t{k}_presentations_per_s"] = round(presentations, 1)
            metrics[f"engine_{n_exc}_t{k}_epoch_60k_minutes"] = round(60000 / rate / 60, 2)
            print(f"{n_exc} neurons, {k} thread(s): {rate:.1f} samples/s "
                  f"({samples} samples; 60k epoch {60000 / rate / 60:.1f} min)", flush=True)
            nets.append(net)
        identical &= all(np.array_equal(n.weights, nets[0].weights)
                         and np.array_equal(n.theta, nets[0].theta) for n in nets[1:])
    for n_exc in sizes:
        if len(threads) > 1:
            metrics[f"engine_{n_exc}_speedup_t{threads[-1]}"] = round(
                metrics[f"engine_{n_exc}_t{threads[-1]}_samples_per_s"]
                / metrics[f"engine_{n_exc}_t{threads[0]}_samples_per_s"], 2)
    load_engine = os.getloadavg()

    params = STDPParams(n_exc=sizes[0], **TUNED)
    net = STDPNetwork(params, seed=0)
    net.train(images[:20])
    raster = np.concatenate([poisson_raster(image, params.max_rate_hz, params)
                             for image in images[:lava_images]], axis=1)
    start = time.perf_counter()
    lava_run_raster(params, raster, weights=net.weights, theta=net.theta)
    lava_s = time.perf_counter() - start
    # the earlier names (docs/methods/stdp.md reads them): 400 neurons on its faster setting
    best = max((f"engine_{sizes[0]}_t{k}" for k in threads),
               key=lambda name: metrics[f"{name}_samples_per_s"])
    metrics["engine_train_samples_per_s"] = metrics[f"{best}_samples_per_s"]
    metrics["engine_presentations_per_s"] = metrics[f"{best}_presentations_per_s"]
    metrics["engine_epoch_60k_minutes"] = metrics[f"{best}_epoch_60k_minutes"]
    metrics["lava_train_samples_per_s"] = round(lava_images / lava_s, 3)
    metrics["lava_steps_per_s"] = round(lava_images * params.sample_steps / lava_s, 1)
    metrics["engine_over_lava"] = round(
        metrics[f"{best}_samples_per_s"] / (lava_images / lava_s), 1)
    path = write_results(
        out, "bench_stdp", dataset="MNIST (shipped subset, 2000 images)", metrics=metrics,
        method="stdp", command="make bench",
        config={"sizes": list(sizes), "threads": list(threads),
                "samples": {str(n): SAMPLES.get(n, 200) for n in sizes},
                "steps_per_image": params.sample_steps, "lava_images": lava_images,
                "lava_includes_startup": True, "cpu_count": os.cpu_count()},
        extra={"threads_bit_identical": bool(identical),
               "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after_engine": [round(x, 2) for x in load_engine]})
    print(f"1 and 2 threads bit-identical: {identical}")
    print(f"load average before {load_before}, after the engine runs {load_engine}")
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder for bench_stdp.json (results/ needs a clean tree)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1600, 6400])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--lava-images", type=int, default=4)
    args = parser.parse_args()
    main(args.out, tuple(args.sizes), tuple(args.threads), args.lava_images)
