"""Method 1 experiment: train the Diehl & Cook network with power-law STDP (optionally pruned
and quantized during training), label its neurons, test, check the model in Lava.

``lava-thesis train stdp`` calls :func:`run` (one configuration) or :func:`sweep` (pruning
fractions x quantization levels); the demo calls :func:`run` on the shipped MNIST subset.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from lava_thesis.plots import new_figure, plot_receptive_fields, save_figure
from lava_thesis.results import git_commit, write_results
from lava_thesis.stdp import STDPNetwork, STDPParams, assign_labels, predict
from lava_thesis.stdp.cost import synapse_cost
from lava_thesis.stdp.model_io import save_model

# Tuned on 20k MNIST images, 100 neurons (see README): a 20 ms membrane (D&C: 100 ms with
# conductance synapses) and stronger lateral inhibition suit current-based synapses.
TUNED = {"exc_dv": 0.05, "w_inh_exc": 60.0}
PAPER = {"accuracy": "90.1% MNIST, pruned + quantized (Rathi et al. 2019); "
                     "Diehl & Cook 2015: 82.9% (100), 87.0% (400), 91.9% (1600 neurons)",
         "energy_ratio": "3.1x", "area_ratio": "4x"}
HEADLINE = ("accuracy", "lava_accuracy", "agreement", "pruned_fraction", "bits_per_weight",
            "energy_ratio", "area_ratio", "train_samples_per_s")


@dataclass
class STDPConfig:
    """One STDP run. ``prune_fraction``/``levels`` are reached by a ramp over the first half
    of training (an event every ``prune_interval`` presentations) and applied once more at the
    end, so the saved weights are exactly pruned and on the levels."""

    n_exc: int = 400
    epochs: int = 1
    train_samples: int | None = None  # None: the whole training set
    assign_samples: int = 10000  # labelled training images used to label the neurons
    test_samples: int | None = None
    prune_fraction: float = 0.0
    levels: int = 0
    prune_interval: int = 1000
    lava_samples: int = 100
    seed: int = 0
    overrides: dict = field(default_factory=lambda: dict(TUNED))

    def params(self, n_input: int) -> STDPParams:
        return STDPParams(n_input=n_input, n_exc=self.n_exc, **self.overrides)


def schedule(cfg: STDPConfig, total: int) -> Callable[[int], tuple[float, int]]:
    """Pruning ramp: fraction grows linearly to its target by half of training; levels apply
    from the first event on."""
    half = max(total // 2, 1)
    return lambda i: (cfg.prune_fraction * min(1.0, (i + 1) / half), cfg.levels)


def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).reshape(len(images), -1)


def _presentations(engine: STDPNetwork, image: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The engine's test protocol on explicit rasters: present ``image`` as Poisson spikes,
    again 32 Hz faster while fewer than ``min_spikes`` spikes come out. Returns every
    presentation's raster and the last one's spike counts (engine state advances)."""
    from lava_thesis.stdp.engine import poisson_raster

    p = engine.params
    rasters, rate = [], p.max_rate_hz
    for attempt in range(1, p.max_presentations + 1):
        raster = poisson_raster(image, rate, p)
        rasters.append(raster)
        counts = engine.run_raster(raster, learn=False).sum(0)
        if counts.sum() >= p.min_spikes or attempt == p.max_presentations:
            return rasters, counts
        rate += p.rate_boost_hz
    raise AssertionError("unreachable")


def lava_check(net: STDPNetwork, images: np.ndarray, labels: np.ndarray,
               assignments: np.ndarray, seed: int, chunk: int = 20,
               log=print) -> dict[str, float]:
    """Run ``images`` through the Lava ``DiehlCookNetwork`` (learning off) and through the
    engine on the *same* input spikes, with the engine's test protocol (re-presentation while
    fewer than ``min_spikes`` spikes; fresh state per chunk of ``chunk`` images); return both
    accuracies and their prediction agreement."""
    from lava_thesis.stdp.kernels import seed as seed_numba
    from lava_thesis.stdp.lava_net import lava_run_raster

    p = net.params
    seed_numba(seed)
    counts_engine, counts_lava = [], []
    t0, steps = time.perf_counter(), 0
    for start in range(0, len(images), chunk):
        engine = STDPNetwork(p)
        engine.weights, engine.mask = net.weights, net.mask
        engine.theta[:] = net.theta
        rasters, finals = [], []
        for image in images[start:start + chunk]:
            segs, counts = _presentations(engine, image)
            rasters += segs
            finals.append(len(rasters) - 1)
            counts_engine.append(counts)
        raster = np.concatenate(rasters, axis=1)
        steps += raster.shape[1]
        spikes = lava_run_raster(p, raster, weights=net.weights, mask=net.mask,
                                 theta=net.theta, learning=False).spikes
        per_seg = spikes.reshape(len(rasters), p.sample_steps, -1).sum(1)
        counts_lava += list(per_seg[finals])
        log(f"  Lava: {min(start + chunk, len(images))}/{len(images)} images")
    ce, cl = np.array(counts_engine), np.array(counts_lava)
    pe, pl = predict(ce, assignments, 10), predict(cl, assignments, 10)
    seconds = time.perf_counter() - t0
    return {"lava_samples": len(images), "lava_accuracy": float((pl == labels).mean()),
            "engine_accuracy_lava_subset": float((pe == labels).mean()),
            "agreement": float((pl == pe).mean()), "spike_count_match": float((ce == cl).mean()),
            "lava_steps_per_s": steps / seconds}


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    dataset: str,
    config: STDPConfig | None = None,
    experiment: str = "stdp",
    model_dir: str | Path | None = None,
    log=print,
    write: bool = True,
    allow_dirty: bool = False,
) -> dict[str, float]:
    """Train, label, test; write ``<out_dir>/<experiment>.json``, receptive-field plots and
    the model (``<model_dir>/<experiment>.h5``) unless ``write`` is False."""
    cfg = config or STDPConfig()
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    (x_tr, y_tr), (x_te, y_te) = train, test
    x_tr, x_te = _flat(x_tr), _flat(x_te)
    n_train = len(x_tr) if cfg.train_samples is None else min(cfg.train_samples, len(x_tr))
    n_test = len(x_te) if cfg.test_samples is None else min(cfg.test_samples, len(x_te))
    commit = git_commit()
    params = cfg.params(x_tr.shape[1])
    pruning = cfg.prune_fraction > 0 or cfg.levels > 0
    net = STDPNetwork(params, seed=cfg.seed, prune_every=cfg.prune_interval if pruning else 0)
    ramp = schedule(cfg, n_train * cfg.epochs) if pruning else None
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()
    used = 0
    every = max(n_train // 10, 1)
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(x_tr))[:n_train]
        offset = epoch * n_train

        def progress(i: int, e: int = epoch) -> None:
            if n_train >= 10000 and (i + 1) % every == 0:
                log(f"  epoch {e + 1}: {i + 1}/{n_train} images")

        used += net.train(x_tr[order], progress=progress, schedule=None if ramp is None
                          else (lambda i, o=offset: ramp(i + o)))
    train_s = time.perf_counter() - t0
    if pruning:
        net.prune_and_quantize(cfg.prune_fraction, cfg.levels)

    t0 = time.perf_counter()
    n_assign = min(cfg.assign_samples, len(x_tr))
    assign_idx = rng.permutation(len(x_tr))[:n_assign]
    assignments = assign_labels(net.responses(x_tr[assign_idx]), y_tr[assign_idx], 10)
    counts = net.responses(x_te[:n_test])
    pred = predict(counts, assignments, 10)
    eval_s = time.perf_counter() - t0
    cost = synapse_cost(net.mask, cfg.levels, x_te[:n_test].mean(0))
    metrics = {
        "accuracy": float((pred == y_te[:n_test]).mean()),
        "test_samples": n_test,
        "train_samples": n_train * cfg.epochs,
        "presentations": used,
        "train_seconds": round(train_s, 1),
        "train_samples_per_s": n_train * cfg.epochs / train_s,
        "eval_samples_per_s": (n_assign + n_test) / eval_s,
        "labelled_neurons": int((assignments >= 0).sum()),
        "mean_test_spikes": float(counts.sum(1).mean()),
        **cost,
    }
    log(f"  accuracy {metrics['accuracy']:.4f} ({n_test} test images), "
        f"{metrics['train_samples_per_s']:.0f} training images/s")
    if cfg.lava_samples:
        n = min(cfg.lava_samples, n_test)
        metrics.update(lava_check(net, x_te[:n], y_te[:n], assignments, cfg.seed + 1, log=log))
        log(f"  Lava: accuracy {metrics['lava_accuracy']:.3f}, agreement "
            f"{metrics['agreement']:.3f} on {n} images")
    if write:
        card = {"model": "Diehl & Cook STDP network (power-law STDP)", "dataset": dataset,
                "epochs": cfg.epochs, "config": asdict(cfg), "params": params.to_dict(),
                "metrics": metrics, "commit": commit}
        save_model(model_dir / f"{experiment}.h5", net, assignments, card)
        side = int(round(np.sqrt(params.n_input)))
        weights = f"{cfg.levels} levels" if cfg.levels else "float weights"
        plot_receptive_fields(net.weights, out_dir / f"{experiment}_receptive_fields.png",
                              shape=(side, side),
                              title=f"{experiment}: {params.n_exc} neurons, "
                                    f"{100 * cost['pruned_fraction']:.0f}% pruned, {weights}")
        write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="stdp",
                      config=asdict(cfg), commit=commit, paper=PAPER,
                      headline=[k for k in HEADLINE if k in metrics], allow_dirty=allow_dirty)
    return metrics


SWEEP_FRACTIONS = (0.0, 0.5, 0.75, 0.9)
SWEEP_LEVELS = (2, 4, 8, 16, 0)


def sweep(train, test, out_dir: str | Path, *, dataset: str, config: STDPConfig,
          experiment: str = "stdp_sweep", log=print,
          allow_dirty: bool = False) -> dict[str, float]:
    """Accuracy vs. pruned fraction (float weights), then vs. levels at ``config``'s pruning
    fraction; one JSON with every point and two plots."""
    points: dict[str, float] = {}
    for frac in SWEEP_FRACTIONS:
        log(f"sweep: pruned {frac:.0%}, float weights")
        m = run(train, test, out_dir, dataset=dataset, write=False, log=log,
                config=replace(config, prune_fraction=frac, levels=0, lava_samples=0))
        points[f"accuracy_pruned{int(frac * 100)}_float"] = m["accuracy"]
        points[f"energy_ratio_pruned{int(frac * 100)}_float"] = m["energy_ratio"]
    frac = config.prune_fraction
    for levels in SWEEP_LEVELS[:-1]:
        log(f"sweep: pruned {frac:.0%}, {levels} levels")
        m = run(train, test, out_dir, dataset=dataset, write=False, log=log,
                config=replace(config, prune_fraction=frac, levels=levels, lava_samples=0))
        points[f"accuracy_pruned{int(frac * 100)}_levels{levels}"] = m["accuracy"]
        points[f"energy_ratio_pruned{int(frac * 100)}_levels{levels}"] = m["energy_ratio"]
        points[f"area_ratio_pruned{int(frac * 100)}_levels{levels}"] = m["area_ratio"]
    out_dir = Path(out_dir)
    plot_sweep(points, frac, out_dir / f"{experiment}.png")
    write_results(out_dir, experiment, dataset=dataset, metrics=points, method="stdp",
                  config=asdict(config),
                  headline=[k for k in points if k.startswith("accuracy")],
                  allow_dirty=allow_dirty)
    return points


def plot_sweep(points: dict[str, float], frac: float, path: str | Path) -> Path:
    """Accuracy vs. pruned fraction (float) and vs. levels (at ``frac``) from sweep points."""
    from matplotlib.ticker import NullFormatter

    fig = new_figure((9.0, 3.6))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    fr = [f for f in SWEEP_FRACTIONS if f"accuracy_pruned{int(f * 100)}_float" in points]
    ax1.plot([100 * f for f in fr],
             [100 * points[f"accuracy_pruned{int(f * 100)}_float"] for f in fr], marker="o")
    ax1.set(xlabel="synapses pruned (%)", ylabel="test accuracy (%)", title="float weights")
    key = f"accuracy_pruned{int(frac * 100)}"
    lv = [n for n in SWEEP_LEVELS[:-1] if f"{key}_levels{n}" in points]
    ax2.plot(lv, [100 * points[f"{key}_levels{n}"] for n in lv], marker="o", label="quantized")
    if f"{key}_float" in points:
        ax2.axhline(100 * points[f"{key}_float"], ls="--", color="gray", label="float")
    ax2.set(xscale="log", xlabel="weight levels", ylabel="test accuracy (%)",
            title=f"{frac:.0%} pruned")
    ax2.set_xticks(lv, [str(n) for n in lv])
    ax2.xaxis.set_minor_formatter(NullFormatter())
    ax2.legend()
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    return save_figure(fig, path)
