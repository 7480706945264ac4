"""Method 1 experiment: train the Diehl & Cook network with power-law STDP (optionally pruned
and quantized during training), label its neurons, validate, test, check the model in Lava.

The evaluation follows :mod:`lava_thesis.protocol`: a validation split is carved off the
training images (the network trains on the rest, and its neurons are labelled from those
training images, never from validation or test images); one network is trained per seed; the
test set is evaluated once per trained network. ``lava-thesis train stdp`` calls :func:`run`
(one configuration) or :func:`lava_thesis.experiments.stdp_sweep.sweep` (pruning fractions x
quantization levels, whose operating point is chosen on validation accuracy); the demo calls
:func:`run` on the shipped MNIST subset.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lava_thesis.plots import plot_receptive_fields
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import git_commit, write_results
from lava_thesis.stdp import STDPNetwork, STDPParams, assign_labels, predict
from lava_thesis.stdp.checkpoint import checkpoint_path
from lava_thesis.stdp.cost import synapse_cost
from lava_thesis.stdp.fixed_engine import FixedPointRunner, fixed_point_responses
from lava_thesis.stdp.fixed_point import FixedPointNetwork, to_fixed_point
from lava_thesis.stdp.model_io import save_model
from lava_thesis.stdp.rules import rule_params
from lava_thesis.stdp.trainer import CheckpointPlan, train_epochs
from lava_thesis.stdp_reference import diehl_cook_reference

# Tuned on 20k MNIST images, 100 neurons (see README): a 20 ms membrane (D&C: 100 ms with
# conductance synapses) and stronger lateral inhibition suit current-based synapses.
TUNED = {"exc_dv": 0.05, "w_inh_exc": 60.0}
PAPER = {"accuracy": "90.1% MNIST, pruned + quantized (Rathi et al. 2019); "
                     "Diehl & Cook 2015: 82.9% (100), 87.0% (400), 91.9% (1600), "
                     "95.0% (6400 neurons)",
         "deployed_accuracy": "90.1% MNIST, pruned + quantized (Rathi et al. 2019, float)",
         "energy_ratio": "3.1x", "area_ratio": "4x"}
HEADLINE = ("deployed_accuracy", "accuracy", "lava_accuracy", "agreement", "pruned_fraction",
            "bits_per_weight", "energy_ratio", "area_ratio", "train_samples_per_s")
Data = tuple[np.ndarray, np.ndarray]


@dataclass
class STDPConfig:
    """One STDP run. ``prune_fraction``/``levels`` are reached by a ramp over the first half
    of training (an event every ``prune_interval`` presentations) and applied once more at the
    end, so the saved weights are exactly pruned and on the levels. ``assign_samples``
    training images label the neurons; ``val_samples`` validation images (None: all) measure
    ``val_accuracy``; ``val_fraction`` is the validation share when :func:`run` is given no
    :class:`~lava_thesis.protocol.Protocol`."""

    n_exc: int = 400
    epochs: int = 1
    train_samples: int | None = None  # None: the whole training set
    assign_samples: int = 10000  # labelled training images used to label the neurons
    test_samples: int | None = None
    prune_fraction: float = 0.0
    levels: int = 0
    prune_interval: int = 1000
    val_samples: int | None = None
    lava_samples: int = 100
    seed: int = 0
    val_fraction: float = 0.1
    overrides: dict = field(default_factory=lambda: dict(TUNED))
    #: weight dependence of the STDP rule (:data:`lava_thesis.stdp.rules.RULES`)
    rule: str = "power-law"
    #: what pruning removes first: the weakest synapses or the least correlated ones
    #: (:class:`~lava_thesis.stdp.STDPNetwork`'s ``prune_by``)
    prune_by: str = "weight"

    def params(self, n_input: int) -> STDPParams:
        return rule_params(STDPParams(n_input=n_input, n_exc=self.n_exc, **self.overrides),
                           self.rule)


def schedule(cfg: STDPConfig, total: int) -> Callable[[int], tuple[float, int]]:
    """Pruning ramp: fraction grows linearly to its target by half of training; levels apply
    from the first event on."""
    half = max(total // 2, 1)
    return lambda i: (cfg.prune_fraction * min(1.0, (i + 1) / half), cfg.levels)


def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).reshape(len(images), -1)


def _presentations(engine: STDPNetwork | FixedPointRunner, image: np.ndarray
                   ) -> tuple[list[np.ndarray], np.ndarray]:
    """The engine's test protocol on explicit rasters: present ``image`` as Poisson spikes,
    again 32 Hz faster while fewer than ``min_spikes`` spikes come out. Returns every
    presentation's raster and the last one's spike counts (engine state advances). ``engine``:
    the float engine (learning off) or the integer network's runner."""
    from lava_thesis.stdp.engine import poisson_raster, raster_csr

    p = engine.params if isinstance(engine, STDPNetwork) else engine.fx.params
    rasters, rate = [], p.max_rate_hz
    for attempt in range(1, p.max_presentations + 1):
        raster = poisson_raster(image, rate, p)
        rasters.append(raster)
        counts = (engine.run_raster(raster, learn=False).sum(0)
                  if isinstance(engine, STDPNetwork) else engine.run(*raster_csr(raster)))
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
    from lava_thesis.stdp.lava_net import lava_run_raster

    def fresh() -> STDPNetwork:
        engine = STDPNetwork(net.params)
        engine.weights, engine.mask = net.weights, net.mask
        engine.theta[:] = net.theta
        return engine

    return _compare_with_lava(
        fresh, lambda raster: lava_run_raster(net.params, raster, weights=net.weights,
                                              mask=net.mask, theta=net.theta,
                                              learning=False).spikes,
        net.params, images, labels, assignments, seed, chunk, lambda n: log(
            f"  Lava: {n}/{len(images)} images"))


def lava_fixed_check(fx: FixedPointNetwork, images: np.ndarray, labels: np.ndarray,
                     assignments: np.ndarray, seed: int, chunk: int = 20,
                     log=print) -> dict[str, float]:
    """The deployed network in Lava: ``images`` through the integer network in Lava's
    ``fixed_pt`` models (:func:`~lava_thesis.stdp.deploy.lava_fixed_run_raster`) and through
    the integer engine on the *same* input spikes, as :func:`lava_check` does in floating
    point; returns Lava's accuracy, the engine's on the same images, their prediction
    agreement and the share of images with identical spike counts."""
    from lava_thesis.stdp.deploy import lava_fixed_run_raster

    return _compare_with_lava(
        lambda: FixedPointRunner(fx), lambda raster: lava_fixed_run_raster(fx, raster),
        fx.params, images, labels, assignments, seed, chunk, lambda n: log(
            f"  Lava fixed_pt: {n}/{len(images)} images"))


def _compare_with_lava(fresh: Callable[[], STDPNetwork | FixedPointRunner],
                       lava_spikes: Callable[[np.ndarray], np.ndarray], params: STDPParams,
                       images: np.ndarray, labels: np.ndarray, assignments: np.ndarray,
                       seed: int, chunk: int, progress: Callable[[int], Any]
                       ) -> dict[str, float]:
    """The shared loop of :func:`lava_check` and :func:`lava_fixed_check`: per chunk a
    ``fresh()`` engine draws each image's presentations, Lava runs them all
    (``lava_spikes(raster)`` -> ``(steps, n_exc)``), and each image's last presentation is
    compared."""
    from lava_thesis.stdp.kernels import seed as seed_numba

    seed_numba(seed)
    counts_engine, counts_lava = [], []
    t0, steps = time.perf_counter(), 0
    for start in range(0, len(images), chunk):
        engine = fresh()
        rasters, finals = [], []
        for image in images[start:start + chunk]:
            segs, counts = _presentations(engine, image)
            rasters += segs
            finals.append(len(rasters) - 1)
            counts_engine.append(counts)
        raster = np.concatenate(rasters, axis=1)
        steps += raster.shape[1]
        per_seg = lava_spikes(raster).reshape(len(rasters), params.sample_steps, -1).sum(1)
        counts_lava += list(per_seg[finals])
        progress(min(start + chunk, len(images)))
    ce, cl = np.array(counts_engine), np.array(counts_lava)
    pe, pl = predict(ce, assignments, 10), predict(cl, assignments, 10)
    return {"lava_samples": len(images), "lava_accuracy": float((pl == labels).mean()),
            "engine_accuracy_lava_subset": float((pe == labels).mean()),
            "agreement": float((pl == pe).mean()), "spike_count_match": float((ce == cl).mean()),
            "lava_steps_per_s": steps / (time.perf_counter() - t0)}


def train_and_test(cfg: STDPConfig, train: Data, val: Data, test: Data, seed: int,
                   log=print, checkpoint: CheckpointPlan | None = None
                   ) -> tuple[dict[str, float], STDPNetwork, np.ndarray]:
    """Train one network with ``seed`` on ``train`` (flat images), label its neurons from
    ``cfg.assign_samples`` of those training images, then measure accuracy on the first
    ``cfg.val_samples`` validation images and on the first ``cfg.test_samples`` test images.
    ``checkpoint``: write checkpoints / resume from one (:func:`train_epochs`).

    A neuron's label is the class of highest mean response on the labelling images; a test
    image's class is the label with the highest mean spike count (:func:`predict`).
    ``deployed_accuracy`` is the same test with the network converted to Loihi's integers
    (:func:`~lava_thesis.stdp.fixed_point.to_fixed_point`: 8-bit weights, theta folded into
    the thresholds) and run by the integer engine, which Lava's ``fixed_pt`` models equal spike
    for spike (:func:`lava_fixed_check`); the neuron labels are the float network's.

    Returns
    -------
    metrics, network, assignments
        ``metrics`` holds numbers only (``accuracy``, ``val_accuracy``, the cost estimate, ...).
    """
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = train, val, test
    n_train = len(x_tr) if cfg.train_samples is None else min(cfg.train_samples, len(x_tr))
    n_val = len(x_val) if cfg.val_samples is None else min(cfg.val_samples, len(x_val))
    n_test = len(x_te) if cfg.test_samples is None else min(cfg.test_samples, len(x_te))
    params = cfg.params(x_tr.shape[1])
    pruning = cfg.prune_fraction > 0 or cfg.levels > 0
    net = STDPNetwork(params, seed=seed, prune_every=cfg.prune_interval if pruning else 0,
                      prune_by=cfg.prune_by)
    ramp = schedule(cfg, n_train * cfg.epochs) if pruning else None
    rng = np.random.default_rng(seed)
    trained = train_epochs(net, x_tr, n_train, cfg.epochs, rng, ramp=ramp,
                           checkpoint=checkpoint, seed=seed, log=log)
    used, train_s = trained.presentations, trained.seconds
    if pruning:
        net.prune_and_quantize(cfg.prune_fraction, cfg.levels)

    t0 = time.perf_counter()
    n_assign = min(cfg.assign_samples, len(x_tr))
    assign_idx = rng.permutation(len(x_tr))[:n_assign]
    assignments = assign_labels(net.responses(x_tr[assign_idx]), y_tr[assign_idx], 10)
    val_pred = predict(net.responses(x_val[:n_val]), assignments, 10)
    counts = net.responses(x_te[:n_test])
    pred = predict(counts, assignments, 10)
    eval_s = time.perf_counter() - t0
    fixed = fixed_point_responses(to_fixed_point(net), x_te[:n_test], seed + 2)
    deployed = predict(fixed, assignments, 10)
    cost = synapse_cost(net.mask, cfg.levels, x_te[:n_test].mean(0))
    metrics = {
        "deployed_accuracy": float((deployed == y_te[:n_test]).mean()),
        "deployed_float_agreement": float((deployed == pred).mean()),
        "accuracy": float((pred == y_te[:n_test]).mean()),
        "val_accuracy": float((val_pred == y_val[:n_val]).mean()),
        "val_samples": n_val,
        "test_samples": n_test,
        "train_samples": n_train * cfg.epochs,
        "presentations": used,
        "train_seconds": round(train_s, 1),
        "train_samples_per_s": n_train * cfg.epochs / train_s,
        "eval_samples_per_s": (n_assign + n_val + n_test) / eval_s,
        "labelled_neurons": int((assignments >= 0).sum()),
        "mean_test_spikes": float(counts.sum(1).mean()),
        **cost,
    }
    log(f"  seed {seed}: accuracy {metrics['accuracy']:.4f}, deployed (8-bit integers) "
        f"{metrics['deployed_accuracy']:.4f} ({n_test} test images), "
        f"validation {metrics['val_accuracy']:.4f} ({n_val}), "
        f"{metrics['train_samples_per_s']:.0f} training images/s")
    return metrics, net, assignments


def split_images(train: Data, test: Data, protocol: Protocol
                 ) -> tuple[Data, Data, Data, dict]:
    """Flatten the images and carve ``protocol``'s validation split off the training set:
    ``(train, val, test, validation_info)``. The validation set must not be empty."""
    (x_tr, y_tr), (x_te, y_te) = train, test
    fit, val, info = split_training(_flat(x_tr), np.asarray(y_tr), protocol)
    if info["val"] == 0:
        raise ValueError(f"val_fraction {protocol.val_fraction} leaves no validation image "
                         f"out of {len(y_tr)} training images: STDP needs a validation set")
    return fit, val, (_flat(x_te), np.asarray(y_te)), info


def run(
    train: Data,
    test: Data,
    out_dir: str | Path,
    *,
    dataset: str,
    config: STDPConfig | None = None,
    experiment: str = "stdp",
    model_dir: str | Path | None = None,
    log=print,
    write: bool = True,
    allow_dirty: bool = False,
    protocol: Protocol | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
) -> dict[str, float]:
    """Carve the validation split off ``train``, train one network per seed of ``protocol``
    (:func:`train_and_test`), run the first seed's network in Lava on the first
    ``lava_samples`` test images (:func:`lava_check`); write ``<out_dir>/<experiment>.json``,
    the first seed's receptive-field plot and model (``<model_dir>/<experiment>.h5``) unless
    ``write`` is False.

    ``protocol`` None: one seed, ``config.seed``, and ``config.val_fraction``. The returned
    metrics are the means over the seeds (``accuracy``: engine, the full test set or its first
    ``test_samples``; ``val_accuracy``: validation), plus the Lava check of the first seed's
    network (``lava_accuracy``, ``agreement``, ...).

    ``checkpoint_every`` > 0: each seed writes a checkpoint every that many training images
    to ``<model_dir>/<experiment>.seed<seed>.ckpt``; ``resume``: each seed continues from
    its checkpoint when there is one (bit-identical to an uninterrupted run; the results
    config then says ``"resumed": true`` and ``extra["resumed_seeds"]`` the images each
    resumed seed had done). The checkpoints are removed when the run has finished.
    """
    cfg = config or STDPConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0])
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    commit = git_commit()
    fit, val, test_set, info = split_images(train, test, protocol)
    first: dict = {}
    plans = {seed: CheckpointPlan(checkpoint_path(model_dir, experiment, seed),
                                  checkpoint_every, resume) for seed in protocol.seeds}

    def one_seed(seed: int) -> dict[str, float]:
        plan = plans[seed] if checkpoint_every or resume else None
        metrics, net, assignments = train_and_test(cfg, fit, val, test_set, seed, log, plan)
        if not first:
            first.update(net=net, assignments=assignments, metrics=metrics)
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    net, assignments = first["net"], first["assignments"]
    if len(protocol.seeds) > 1:
        log(f"  mean over {len(protocol.seeds)} seeds: accuracy {metrics['accuracy']:.4f}, "
            f"validation {metrics['val_accuracy']:.4f}")
    if cfg.lava_samples:
        x_te, y_te = test_set
        n = min(cfg.lava_samples, int(first["metrics"]["test_samples"]))
        metrics.update(lava_fixed_check(to_fixed_point(net), x_te[:n], y_te[:n], assignments,
                                        cfg.seed + 1, log=log))
        log(f"  Lava fixed_pt (seed {cfg.seed}'s network): accuracy "
            f"{metrics['lava_accuracy']:.3f}, agreement with the integer engine "
            f"{metrics['agreement']:.3f} on {n} images")
    resumed = {str(s): p.resumed_from for s, p in plans.items() if p.resumed_from is not None}
    if write:
        params = net.params
        card = {"model": "Diehl & Cook STDP network (power-law STDP)", "dataset": dataset,
                "epochs": cfg.epochs, "config": asdict(cfg), "params": params.to_dict(),
                "metrics": first["metrics"], "seed": cfg.seed, "resumed": bool(resumed),
                "protocol": protocol.as_dict(), "validation": info, "commit": commit}
        save_model(model_dir / f"{experiment}.h5", net, assignments, card)
        side = int(round(np.sqrt(params.n_input)))
        weights = f"{cfg.levels} levels" if cfg.levels else "float weights"
        pruned = first["metrics"]["pruned_fraction"]
        plot_receptive_fields(net.weights, out_dir / f"{experiment}_receptive_fields.png",
                              shape=(side, side),
                              title=f"{experiment}: {params.n_exc} neurons, "
                                    f"{100 * pruned:.0f}% pruned, {weights} (seed {cfg.seed})")
        write_results(out_dir, experiment, dataset=dataset, metrics=metrics, method="stdp",
                      config={**asdict(cfg), "protocol": protocol.as_dict(),
                              "resumed": bool(resumed), "checkpoint_every": checkpoint_every},
                      commit=commit, paper=PAPER,
                      extra={**extra, "lava_check_seed": cfg.seed, "resumed_seeds": resumed,
                             "diehl_cook_2015": diehl_cook_reference(cfg.n_exc, cfg.epochs)},
                      validation=info, headline=[k for k in HEADLINE if k in metrics],
                      allow_dirty=allow_dirty)
    for plan in plans.values() if checkpoint_every or resume else ():  # finished: spent
        plan.path.unlink(missing_ok=True)
    return metrics


def check_saved_model(path: str | Path, test: Data, samples: int, out_dir: str | Path, *,
                      dataset: str, log=print, allow_dirty: bool = False) -> dict[str, float]:
    """Run a saved model (:func:`~lava_thesis.stdp.model_io.save_model`, the first seed's of
    :func:`run`) in Lava's ``fixed_pt`` models on the first ``samples`` images of ``test``
    against the integer engine: the check ``--lava-samples`` makes inside :func:`run`, on the
    same input spikes (seed: the model's seed + 1), so the numbers are that check's. It lets
    a run train with ``--lava-samples 0`` and the Lava check of a large network run apart.
    Writes ``<out_dir>/<model stem>_lava.json``; returns :func:`lava_fixed_check`'s metrics."""
    from lava_thesis.stdp.model_io import load_model

    commit = git_commit()  # the code that ran, not the code when the file is written
    net, assignments, card = load_model(path)
    seed = int(card.get("seed", 0))
    x_te, y_te = _flat(test[0]), np.asarray(test[1])
    if x_te.shape[1] != net.params.n_input:
        raise ValueError(f"{path}: the model takes {net.params.n_input} input pixels, the "
                         f"test images have {x_te.shape[1]}")
    n = min(samples, len(y_te))
    log(f"{Path(path).name}: {net.params.n_exc} neurons, seed {seed}, {n} test images")
    metrics = lava_fixed_check(to_fixed_point(net), x_te[:n], y_te[:n], assignments, seed + 1,
                               log=log)
    write_results(out_dir, f"{Path(path).stem}_lava", dataset=dataset, metrics=metrics,
                  method="stdp", config={"model": Path(path).name, "samples": n,
                                         "tag": "fixed_pt", "seed": seed,
                                         "n_exc": net.params.n_exc,
                                         "model_commit": card.get("commit")},
                  headline=["lava_accuracy", "agreement", "spike_count_match"], commit=commit,
                  allow_dirty=allow_dirty)
    return metrics
