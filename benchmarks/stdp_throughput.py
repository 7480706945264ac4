"""`make bench`: training throughput of the STDP network (400 excitatory neurons, 350 + 150
steps per image) in the numba engine and in Lava's CPU simulator, on the shipped MNIST subset.

Writes ``results/bench_stdp.json``. Not a test: numbers depend on the machine. (BindsNET, the
reference Diehl & Cook implementation, was not benchmarked: its last release needs torch >= 2.14
and numpy 2, which this environment's CPU torch 2.13 / lava stack cannot share.)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import lava_thesis  # noqa: F401
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.experiments.stdp import TUNED
from lava_thesis.results import write_results
from lava_thesis.stdp import STDPNetwork, STDPParams
from lava_thesis.stdp.engine import poisson_raster
from lava_thesis.stdp.lava_net import lava_run_raster

RESULTS = Path(__file__).resolve().parents[1] / "results"


def main(n_exc: int = 400, lava_images: int = 4) -> None:
    images, _ = load_shipped_mnist("train")
    images = images.reshape(len(images), -1)
    params = STDPParams(n_exc=n_exc, **TUNED)
    net = STDPNetwork(params, seed=0)
    net.train(images[:20])  # compile (or load the numba cache) outside the timing
    start = time.perf_counter()
    used = net.train(images)
    engine_s = time.perf_counter() - start

    raster = np.concatenate([poisson_raster(image, params.max_rate_hz, params)
                             for image in images[:lava_images]], axis=1)
    start = time.perf_counter()
    lava_run_raster(params, raster, weights=net.weights, theta=net.theta)
    lava_s = time.perf_counter() - start
    metrics = {
        "engine_train_samples_per_s": round(len(images) / engine_s, 1),
        "engine_presentations_per_s": round(used / engine_s, 1),
        "engine_epoch_60k_minutes": round(60000 / (len(images) / engine_s) / 60, 2),
        "lava_train_samples_per_s": round(lava_images / lava_s, 3),
        "lava_steps_per_s": round(lava_images * params.sample_steps / lava_s, 1),
        "engine_over_lava": round((len(images) / engine_s) / (lava_images / lava_s), 1),
    }
    path = write_results(RESULTS, "bench_stdp", dataset="MNIST (shipped subset, 2000 images)",
                         metrics=metrics, method="stdp", command="make bench",
                         config={"n_exc": n_exc, "steps_per_image": params.sample_steps,
                                 "lava_images": lava_images, "lava_includes_startup": True})
    for key, value in metrics.items():
        print(f"{key}: {value}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
