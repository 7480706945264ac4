"""Benchmark: does Lava's CPU simulator hold the deployed Diehl & Cook network at a given size,
how fast does it run, and does it agree with the integer engine there?

Trains a network of ``--n-exc`` excitatory neurons (default 6,400, Diehl & Cook's largest) for
one pass over the shipped MNIST subset (2,000 training images; a short training, so its
accuracy says nothing about the method: the STDP results files do), labels its neurons on
those images, converts it to the 8-bit deployment (:func:`lava_thesis.stdp.fixed_point.
to_fixed_point`) and runs the first ``--samples`` shipped test images through Lava's
``fixed_pt`` models and through the integer engine on the same input spikes
(:func:`lava_thesis.experiments.stdp.lava_fixed_check`, the check of ``lava-thesis
check-stdp``). Records their prediction agreement, the share of images with identical spike
counts, Lava's steps per second (start-up included) and the peak memory of the process and
of the Lava runtime's workers. Writes ``results/bench_stdp_lava_n<N>.json`` (``--out`` for
another folder). Not part of ``make bench``: 100 images at 6,400 neurons take over an hour.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import lava_thesis  # noqa: F401
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.experiments.stdp import TUNED, lava_fixed_check
from lava_thesis.results import git_commit, write_results
from lava_thesis.stdp import STDPNetwork, STDPParams
from lava_thesis.stdp.fixed_point import to_fixed_point
from lava_thesis.stdp.readout import assign_labels

RESULTS = Path(__file__).resolve().parents[1] / "results"


def peak_rss_gb(who: int) -> float:
    """Peak resident memory of this process (``RUSAGE_SELF``) or of its finished children
    (``RUSAGE_CHILDREN``: the largest one), in GB (Linux reports kB)."""
    return round(resource.getrusage(who).ru_maxrss / 1e6, 3)


def main(out: Path, n_exc: int, samples: int, threads: int) -> None:
    commit = git_commit()  # the code that ran, not the code when the file is written
    x_train, y_train = load_shipped_mnist("train")
    x_test, y_test = load_shipped_mnist("test")
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    if not 1 <= samples <= len(x_test):
        raise SystemExit(f"--samples must be in [1, {len(x_test)}] (shipped test images), "
                         f"got {samples}")
    params = STDPParams(n_exc=n_exc, **TUNED)
    net = STDPNetwork(params, seed=0, threads=threads)
    start = time.perf_counter()
    net.train(x_train)
    train_s = time.perf_counter() - start
    assignments = assign_labels(net.responses(x_train), y_train, 10)
    print(f"{n_exc} neurons: one pass over {len(x_train)} images in {train_s:.0f} s; "
          f"Lava fixed_pt on {samples} test images...", flush=True)
    start = time.perf_counter()
    metrics = lava_fixed_check(to_fixed_point(net), x_test[:samples], y_test[:samples],
                               assignments, seed=1)
    lava_s = time.perf_counter() - start
    metrics.update(lava_steps_per_s=round(metrics["lava_steps_per_s"], 1),
                   lava_seconds=round(lava_s, 1), engine_train_seconds=round(train_s, 1),
                   peak_rss_gb_self=peak_rss_gb(resource.RUSAGE_SELF),
                   peak_rss_gb_lava_workers=peak_rss_gb(resource.RUSAGE_CHILDREN))
    path = write_results(
        out, f"bench_stdp_lava_n{n_exc}", dataset="MNIST (shipped subset: 2000 training, "
        "500 test images)", metrics=metrics, method="stdp", commit=commit,
        config={"n_exc": n_exc, "train_images": len(x_train), "train_passes": 1,
                "lava_samples": samples, "tag": "fixed_pt", "engine_threads": threads,
                "steps_per_image": params.sample_steps},
        headline=["agreement", "spike_count_match", "lava_steps_per_s"])
    for key, value in metrics.items():
        print(f"{key}: {value}")
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder for the results file (results/ needs a clean tree)")
    parser.add_argument("--n-exc", type=int, default=6400)
    parser.add_argument("--samples", type=int, default=100, help="shipped test images in Lava")
    parser.add_argument("--threads", type=int, default=2, help="engine threads for training")
    args = parser.parse_args()
    main(args.out, args.n_exc, args.samples, args.threads)
