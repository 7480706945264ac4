"""``lava-thesis demo``: the main job, offline, on the MNIST subset shipped in the package."""

from __future__ import annotations

from pathlib import Path

from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.experiments.quickstart import QuickstartConfig, run


def run_demo(out_dir: str | Path = "out/demo", *, seed: int = 0, epochs: int = 4,
             lava_samples: int = 500, log=print) -> dict[str, float]:
    """Train a SLAYER SNN on 2,000 shipped MNIST images, deploy it to Lava, compare."""
    log("== lava-thesis demo: SLAYER -> netx -> Lava (shipped MNIST subset, offline) ==")
    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    log(f"data: {len(train[1])} training / {len(test[1])} test images (shipped MNIST subset)")
    cfg = QuickstartConfig(epochs=epochs, seed=seed, lava_samples=lava_samples)
    metrics = run(train, test, out_dir, dataset="MNIST (shipped subset 2000/500)", config=cfg,
                  experiment="demo_quickstart", log=log)
    n = int(metrics["lava_samples"])
    log(f"SLAYER accuracy (torch):    {metrics['torch_accuracy_lava_subset']:.2%} on {n} images")
    log(f"Lava accuracy ({cfg.lava_tag}): {metrics['lava_accuracy']:.2%} on {n} images")
    log(f"prediction agreement:       {metrics['agreement']:.2%}")
    log(f"output spikes identical:    {metrics['spike_match']:.2%}")
    log(f"results: {Path(out_dir) / 'demo_quickstart.json'}")
    return metrics
