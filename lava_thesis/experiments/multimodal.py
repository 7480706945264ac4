"""Method 2 experiment: train the image + audio STDP ensembles with cross-modal synapses on
class-matched (MNIST image, FSDD utterance) pairs, label the neurons, test each modality alone
and both together, with noise in one modality, and the same network without cross-modal
synapses (the ablation).

The evaluation follows :mod:`lava_thesis.protocol`: a validation split is carved off each
modality's training set (the networks train on the rest, and their neurons are labelled from
training pairs only); one network pair (with and without cross-modal synapses) is trained per
seed; the test pairs are evaluated once per trained network, always the same pairs.

``lava-thesis train multimodal`` and the demo call :func:`run`. FSDD stands in for the paper's
TI46 and is labelled as FSDD everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.pairing import gaussian_noise, pair_by_class, salt_and_pepper
from lava_thesis.multimodal.pairing import images_per_utterance as images_per_utterance_of
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.multimodal.readout import fused_predict
from lava_thesis.protocol import (
    Protocol,
    or_single_seed,
    summarize,
    validation_info,
    validation_split,
)
from lava_thesis.results import git_commit, write_results
from lava_thesis.stdp import STDPParams, assign_labels, predict

TUNED = {"exc_dv": 0.05, "w_inh_exc": 60.0}  # method 1's tuning (lava_thesis.experiments.stdp)
PAPER = {"multimodal_accuracy": "98% (MNIST + TI46, Rathi & Roy 2018); here FSDD, not TI46",
         "deployed_accuracy": "98% (MNIST + TI46, Rathi & Roy 2018, float); here FSDD"}
HEADLINE = ("deployed_accuracy", "image_accuracy", "audio_accuracy", "multimodal_accuracy",
            "multimodal_minus_best_unimodal", "multimodal_minus_best_unimodal_ci_low",
            "multimodal_minus_best_unimodal_ci_high", "multimodal_accuracy_no_cross",
            "noise_multimodal_above_best_unimodal", "noise_multimodal_significantly_above_best",
            "lava_agreement")
Pairs = tuple[np.ndarray, np.ndarray]
#: the numbers of a robustness row (:func:`robustness`), averaged over seeds by :func:`mean_tables`
TABLE_KEYS = ("noisy_modality_alone", "clean_modality_alone", "multimodal",
              "multimodal_minus_best", "multimodal_minus_best_ci_low",
              "multimodal_minus_best_ci_high")


@dataclass
class MultimodalData:
    """Images ``(N, 28, 28)`` uint8 and audio images ``(M, 28, 28)`` uint8 with labels;
    ``noisy_audio(snr_db)`` returns the test audio images with white noise at that SNR."""

    image_train: Pairs
    image_test: Pairs
    audio_train: Pairs
    audio_test: Pairs
    noisy_audio: Callable[[float], np.ndarray]


@dataclass
class MultimodalConfig:
    """One run. Every test utterance is paired with ``images_per_utterance`` random test
    images of its class (one pair is then worth 1 / (10 x 300) of the accuracy, not 1 / 300;
    the intervals resample utterances), every validation utterance with one random validation
    image of its class.
    ``val_fraction`` is the validation share when :func:`run` is given no
    :class:`~lava_thesis.protocol.Protocol`. The cross-modal constants (``cross``), the rates
    and the audio front end's dynamic range are fixed settings, not chosen by the run; the
    noise levels are test conditions."""

    n_exc: int = 400  # per ensemble
    epochs: int = 1
    train_pairs: int | None = None  # None: one pair per training image
    assign_pairs: int = 5000
    image_rate_hz: float = 63.75
    audio_rate_hz: float = 63.75
    cross: dict = field(default_factory=dict)  # overrides of the CrossParams defaults
    gaussian_sigmas: tuple[float, ...] = (64.0, 128.0, 192.0)
    salt_pepper: tuple[float, ...] = (0.1, 0.2, 0.3)
    audio_snr_db: tuple[float, ...] = (20.0, 10.0, 5.0, 0.0)
    ablation: bool = True
    lava_pairs: int = 100
    seed: int = 0
    val_fraction: float = 0.1
    images_per_utterance: int = 10  # test pairs per test utterance (distinct images)
    overrides: dict = field(default_factory=lambda: dict(TUNED))

    def params(self, rate_hz: float) -> STDPParams:
        return STDPParams(n_input=784, n_exc=self.n_exc, max_rate_hz=rate_hz, **self.overrides)

    def cross_params(self, enabled: bool = True) -> CrossParams:
        return CrossParams(**{**self.cross, "enabled": enabled})


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).reshape(len(x), -1)


@dataclass
class Labels:
    """Neuron labels of both ensembles, from each presentation mode."""

    image_alone: np.ndarray
    audio_alone: np.ndarray
    image_both: np.ndarray
    audio_both: np.ndarray


def train_network(cfg: MultimodalConfig, data: MultimodalData, cross: bool,
                  log=print) -> tuple[MultimodalNetwork, float]:
    """Unsupervised training on class-matched pairs; returns the network and seconds."""
    (xi, yi), (xa, ya) = data.image_train, data.audio_train
    n = len(xi) if cfg.train_pairs is None else min(cfg.train_pairs, len(xi))
    net = MultimodalNetwork(cfg.params(cfg.image_rate_hz), cfg.params(cfg.audio_rate_hz),
                            cfg.cross_params(cross), seed=cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(xi))[:n]
        audio_idx = pair_by_class(yi[order], ya, seed=cfg.seed + epoch)

        def progress(i: int, e: int = epoch, every: int = max(n // 5, 1)) -> None:
            if n >= 5000 and (i + 1) % every == 0:
                log(f"  epoch {e + 1}: {i + 1}/{n} pairs")

        net.train(_flat(xi[order]), _flat(xa[audio_idx]), progress=progress)
    return net, time.perf_counter() - t0


def label_neurons(net: MultimodalNetwork, cfg: MultimodalConfig,
                  data: MultimodalData) -> Labels:
    """Label every neuron by its mean response on ``assign_pairs`` training pairs, once per
    presentation mode (image alone, audio alone, both)."""
    (xi, yi), (xa, ya) = data.image_train, data.audio_train
    rng = np.random.default_rng(cfg.seed + 1)
    idx = rng.permutation(len(xi))[:min(cfg.assign_pairs, len(xi))]
    img, y = _flat(xi[idx]), yi[idx]
    aud = _flat(xa[pair_by_class(y, ya, seed=cfg.seed + 1)])
    ci, _ = net.responses(img, None)
    _, ca = net.responses(None, aud)
    bi, ba = net.responses(img, aud)
    return Labels(assign_labels(ci, y, 10), assign_labels(ca, y, 10),
                  assign_labels(bi, y, 10), assign_labels(ba, y, 10))


def paired_test_set(data: MultimodalData, seed: int, images_per_utterance: int = 1
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every test utterance with ``images_per_utterance`` random test images of its class:
    ``(images, audio, labels)``, utterance-major (pair ``p`` holds utterance
    ``p // images_per_utterance``; see :func:`utterance_of`)."""
    (xi, yi), (xa, ya) = data.image_test, data.audio_test
    if images_per_utterance == 1:
        idx = pair_by_class(ya, yi, seed=seed)
        return _flat(xi[idx]), _flat(xa), np.asarray(ya)
    idx = images_per_utterance_of(ya, yi, images_per_utterance, seed=seed).reshape(-1)
    return (_flat(xi[idx]), _flat(np.repeat(np.asarray(xa), images_per_utterance, axis=0)),
            np.repeat(np.asarray(ya), images_per_utterance))


def utterance_of(n_pairs: int, images_per_utterance: int) -> np.ndarray:
    """The utterance of each pair of :func:`paired_test_set`: the bootstrap's clusters."""
    return np.arange(n_pairs) // images_per_utterance


def predictions(net: MultimodalNetwork, labels: Labels, img: np.ndarray, aud: np.ndarray,
                which: tuple[str, ...] = ("image", "audio", "both")) -> dict[str, np.ndarray]:
    """Predicted classes ``(N,)`` of each presentation mode in ``which`` on the pairs
    ``(img, aud)``: ``image``/``audio`` alone, ``both`` fused, and with both presented each
    ensemble's own vote (``both_image_ensemble``, ``both_audio_ensemble``)."""
    out = {}
    if "image" in which:
        out["image"] = predict(net.responses(img, None)[0], labels.image_alone, 10)
    if "audio" in which:
        out["audio"] = predict(net.responses(None, aud)[1], labels.audio_alone, 10)
    if "both" in which:
        ci, ca = net.responses(img, aud)
        out["both"] = fused_predict(ci, labels.image_both, ca, labels.audio_both, 10)
        out["both_image_ensemble"] = predict(ci, labels.image_both, 10)
        out["both_audio_ensemble"] = predict(ca, labels.audio_both, 10)
    return out


def accuracies(net: MultimodalNetwork, labels: Labels, img: np.ndarray, aud: np.ndarray,
               y: np.ndarray, which: tuple[str, ...] = ("image", "audio", "both")
               ) -> dict[str, float]:
    """Accuracy of each presentation mode in ``which`` on the pairs ``(img, aud, y)``."""
    return {k: float((p == y).mean())
            for k, p in predictions(net, labels, img, aud, which).items()}


def fusion_gain(both: np.ndarray, alone: tuple[np.ndarray, np.ndarray], y: np.ndarray,
                clusters: np.ndarray, seed: int) -> dict[str, float]:
    """The fused accuracy minus that of the better single modality on the same pairs (the
    paired difference the claim is about), with its 95% cluster-bootstrap interval over
    utterances (:func:`~lava_thesis.intervals.cluster_bootstrap`)."""
    from lava_thesis.intervals import cluster_bootstrap

    right = [np.asarray(p == y, np.float64) for p in alone]
    best = right[int(np.argmax([r.mean() for r in right]))]
    diff = np.asarray(both == y, np.float64) - best
    lo, hi = cluster_bootstrap(diff, clusters, seed=seed)
    return {"multimodal_minus_best": float(diff.mean()), "multimodal_minus_best_ci_low": lo,
            "multimodal_minus_best_ci_high": hi}


def accuracy_intervals(pred: dict[str, np.ndarray], y: np.ndarray, clusters: np.ndarray,
                       tag: str, seed: int) -> dict[str, float]:
    """95% cluster-bootstrap intervals (clusters: utterances) of the clean test accuracies,
    ``<mode>_accuracy<tag>_ci_low``/``_ci_high``, and :func:`fusion_gain`."""
    from lava_thesis.intervals import cluster_bootstrap

    out = {}
    for mode, key in (("image", "image_accuracy"), ("audio", "audio_accuracy"),
                      ("both", "multimodal_accuracy")):
        lo, hi = cluster_bootstrap(np.asarray(pred[mode] == y, np.float64), clusters, seed=seed)
        out.update({f"{key}{tag}_ci_low": lo, f"{key}{tag}_ci_high": hi})
    gain = fusion_gain(pred["both"], (pred["image"], pred["audio"]), y, clusters, seed)
    out.update({f"{k.replace('multimodal_minus_best', 'multimodal_minus_best_unimodal')}{tag}": v
                for k, v in gain.items()})
    return out


def deployed_accuracies(net: MultimodalNetwork, labels: Labels, img: np.ndarray,
                        aud: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    """The network as it deploys (:func:`~lava_thesis.multimodal.fixed_point.
    pair_to_fixed_point`: 8-bit weights, theta folded into the thresholds, the cross-modal
    synapses quantized) run by the integer engine, which Lava's ``fixed_pt`` models equal
    spike for spike (:func:`~lava_thesis.multimodal.lava_check.lava_fixed_check`), on the pairs
    ``(img, aud, y)``, with the float network's neuron labels: ``deployed_accuracy`` (both
    modalities, fused), ``deployed_image_accuracy`` and ``deployed_audio_accuracy`` (one
    modality alone), and the largest activation (Loihi's is 16-bit)."""
    from lava_thesis.multimodal.fixed_engine import fixed_pair_responses
    from lava_thesis.multimodal.fixed_point import pair_to_fixed_point
    from lava_thesis.stdp.fixed_point import BUDGET

    fxp = pair_to_fixed_point(net)
    ci, ca, peak = fixed_pair_responses(fxp, img, aud, seed)
    image_alone, _, peak_i = fixed_pair_responses(fxp, img, None, seed + 1)
    _, audio_alone, peak_a = fixed_pair_responses(fxp, None, aud, seed + 2)
    peak = max(peak, peak_i, peak_a)
    return {"deployed_accuracy": float(
                (fused_predict(ci, labels.image_both, ca, labels.audio_both, 10) == y).mean()),
            "deployed_image_accuracy": float(
                (predict(image_alone, labels.image_alone, 10) == y).mean()),
            "deployed_audio_accuracy": float(
                (predict(audio_alone, labels.audio_alone, 10) == y).mean()),
            "deployed_max_activation": float(peak),
            "deployed_activation_fits_16_bits": float(peak <= BUDGET)}


def noise_conditions(cfg: MultimodalConfig, data: MultimodalData, img: np.ndarray,
                     seed: int) -> list[tuple[str, float, np.ndarray | None, np.ndarray | None]]:
    """``(kind, level, noisy images or None, noisy audio or None)`` for every noise level."""
    rng = np.random.default_rng(seed)
    out: list = [("gaussian", s, gaussian_noise(img, s, rng), None)
                 for s in cfg.gaussian_sigmas]
    out += [("salt_pepper", f, salt_and_pepper(img, f, rng), None) for f in cfg.salt_pepper]
    for snr in cfg.audio_snr_db:  # the pairs of paired_test_set are utterance-major
        noisy = _flat(data.noisy_audio(snr))
        k = len(img) // max(len(noisy), 1)
        if k * len(noisy) != len(img):
            raise ValueError(f"{len(img)} test pairs do not pair {len(noisy)} noisy "
                             "utterances alike (paired_test_set's pairs are needed)")
        out.append(("audio_snr_db", snr, None, np.repeat(noisy, k, axis=0)))
    return out


def robustness(net: MultimodalNetwork, labels: Labels, cfg: MultimodalConfig,
               data: MultimodalData, img: np.ndarray, aud: np.ndarray, y: np.ndarray,
               clean: dict[str, np.ndarray], clusters: np.ndarray) -> list[dict]:
    """Accuracy with noise in one modality: the noisy modality alone, the clean one alone and
    both (fused), one row per noise kind and level; ``level`` None is the clean test set.
    ``clean``: the clean test set's :func:`predictions`. Every row also has the fused
    accuracy minus the better single modality's, with its interval (:func:`fusion_gain`,
    ``clusters``: each pair's utterance)."""
    rows = []
    for kind, mine, other in (("gaussian", "image", "audio"), ("salt_pepper", "image", "audio"),
                              ("audio_snr_db", "audio", "image")):
        rows.append({"noise": kind, "level": None,
                     "noisy_modality_alone": float((clean[mine] == y).mean()),
                     "clean_modality_alone": float((clean[other] == y).mean()),
                     "multimodal": float((clean["both"] == y).mean()),
                     **fusion_gain(clean["both"], (clean[mine], clean[other]), y, clusters,
                                   cfg.seed)})
    for kind, level, noisy_img, noisy_aud in noise_conditions(cfg, data, img, cfg.seed + 3):
        if noisy_img is not None:
            pred = predictions(net, labels, noisy_img, aud, ("image", "both"))
            noisy, other = pred["image"], clean["audio"]
        else:
            pred = predictions(net, labels, img, noisy_aud, ("audio", "both"))
            noisy, other = pred["audio"], clean["image"]
        rows.append({"noise": kind, "level": level,
                     "noisy_modality_alone": float((noisy == y).mean()),
                     "clean_modality_alone": float((other == y).mean()),
                     "multimodal": float((pred["both"] == y).mean()),
                     **fusion_gain(pred["both"], (noisy, other), y, clusters, cfg.seed)})
    return rows


def split_pairs(data: MultimodalData, protocol: Protocol
                ) -> tuple[MultimodalData, tuple[np.ndarray, np.ndarray, np.ndarray], dict]:
    """Carve ``protocol``'s validation split off both modalities' training sets
    (:func:`~lava_thesis.protocol.validation_split` on each one's labels).

    Returns the data with only the training parts left for training, the validation pairs
    ``(images, audio, labels)`` (flat; every validation utterance with a random validation
    image of its class, seeded with ``protocol.val_seed``) and the results file's
    ``validation`` field (``train``/``val``: images; ``audio_train``/``audio_val``:
    utterances). Raises ValueError when a class with validation utterances has no validation
    image, or there is no validation utterance at all.
    """
    (xi, yi), (xa, ya) = data.image_train, data.audio_train
    yi, ya = np.asarray(yi), np.asarray(ya)
    fi, vi = validation_split(yi, protocol.val_fraction, protocol.val_seed)
    fa, va = validation_split(ya, protocol.val_fraction, protocol.val_seed)
    missing = sorted(set(ya[va].tolist()) - set(yi[vi].tolist()))
    if len(va) == 0 or missing:
        raise ValueError(f"val_fraction {protocol.val_fraction} leaves "
                         + (f"no validation image of classes {missing}" if len(va) else
                            "no validation utterance")
                         + f" ({len(yi)} training images, {len(ya)} training utterances): "
                           "the multimodal experiment needs validation pairs of every class")
    idx = pair_by_class(ya[va], yi[vi], seed=protocol.val_seed + 5)
    val = (_flat(xi[vi][idx]), _flat(xa[va]), ya[va])
    info = {**validation_info(fi, vi, protocol.val_fraction, protocol.val_seed),
            "audio_train": int(len(fa)), "audio_val": int(len(va))}
    fit = replace(data, image_train=(xi[fi], yi[fi]), audio_train=(xa[fa], ya[fa]))
    return fit, val, info


def mean_tables(per_seed: list[dict[str, list[dict]]]) -> dict[str, list[dict]]:
    """The robustness tables averaged over seeds: each row's accuracies are the mean over the
    seeds' rows (:func:`~lava_thesis.protocol.summarize`), with ``<key>_min``/``<key>_max``
    for the spread."""
    out: dict[str, list[dict]] = {}
    for name, rows in per_seed[0].items():
        out[name] = []
        for i, row in enumerate(rows):
            merged = {"noise": row["noise"], "level": row["level"]}
            for key in TABLE_KEYS:
                values = [tables[name][i][key] for tables in per_seed]
                merged.update({key: summarize(values)["mean"], f"{key}_min": min(values),
                               f"{key}_max": max(values)})
            out[name].append(merged)
    return out


def run(
    data: MultimodalData,
    out_dir: str | Path,
    *,
    dataset: str,
    config: MultimodalConfig | None = None,
    experiment: str = "multimodal",
    model_dir: str | Path | None = None,
    log=print,
    write: bool = True,
    allow_dirty: bool = False,
    protocol: Protocol | None = None,
) -> dict[str, float]:
    """Carve validation pairs off the training data (:func:`split_pairs`); per seed of
    ``protocol``, train (with and, for the ablation, without cross-modal synapses), label,
    validate, test, add noise; check the first seed's network in Lava; write
    ``<out_dir>/<experiment>.json``, the robustness plot (mean over seeds, min-max band) and
    the first seed's model ``<model_dir>/<experiment>.h5`` unless ``write`` is False.

    ``protocol`` None: one seed, ``config.seed``, and ``config.val_fraction``. The returned
    metrics are means over the seeds (test: ``image_accuracy``, ``audio_accuracy``,
    ``multimodal_accuracy``, ``deployed_accuracy`` (:func:`deployed_accuracies`), ...;
    validation: ``val_image_accuracy``, ...), plus the Lava check of the first seed's deployed
    network in ``fixed_pt`` against the integer engine (``lava_accuracy``, ``lava_agreement``,
    ...).
    """
    from lava_thesis.multimodal.fixed_point import pair_to_fixed_point
    from lava_thesis.multimodal.lava_check import lava_fixed_check
    from lava_thesis.multimodal.model_io import save_pair_model
    from lava_thesis.multimodal.plots import plot_robustness

    cfg = config or MultimodalConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0])
    out_dir = Path(out_dir)
    model_dir = out_dir if model_dir is None else Path(model_dir)
    commit = git_commit()
    fit, (vimg, vaud, vy), info = split_pairs(data, protocol)
    # the same test pairs for every seed; each utterance a cluster of the intervals
    img, aud, y = paired_test_set(data, cfg.seed + 2, cfg.images_per_utterance)
    clusters = utterance_of(len(y), cfg.images_per_utterance)
    n_train = len(fit.image_train[0]) if cfg.train_pairs is None else min(
        cfg.train_pairs, len(fit.image_train[0]))
    first: dict = {}
    seed_tables: list[dict[str, list[dict]]] = []

    def one_seed(seed: int) -> dict[str, float]:
        scfg = replace(cfg, seed=seed)
        metrics: dict[str, float] = {"test_pairs": len(y), "val_pairs": len(vy),
                                     "test_utterances": len(y) // cfg.images_per_utterance}
        tables: dict[str, list[dict]] = {}
        for cross in (True, False) if cfg.ablation else (True,):
            tag = "" if cross else "_no_cross"
            net, seconds = train_network(scfg, fit, cross, log)
            labels = label_neurons(net, scfg, fit)
            valid = accuracies(net, labels, vimg, vaud, vy, ("image", "audio", "both"))
            pred = predictions(net, labels, img, aud)
            clean = {k: float((v == y).mean()) for k, v in pred.items()}
            metrics.update(accuracy_intervals(pred, y, clusters, tag, seed))
            metrics.update({f"image_accuracy{tag}": clean["image"],
                            f"audio_accuracy{tag}": clean["audio"],
                            f"multimodal_accuracy{tag}": clean["both"],
                            f"image_ensemble_accuracy_with_audio{tag}":
                                clean["both_image_ensemble"],
                            f"audio_ensemble_accuracy_with_image{tag}":
                                clean["both_audio_ensemble"],
                            f"val_image_accuracy{tag}": valid["image"],
                            f"val_audio_accuracy{tag}": valid["audio"],
                            f"val_multimodal_accuracy{tag}": valid["both"],
                            f"train_seconds{tag}": round(seconds, 1)})
            if cross:
                metrics["train_pairs_per_s"] = n_train * cfg.epochs / max(seconds, 1e-9)
                metrics.update(deployed_accuracies(net, labels, img, aud, y, seed + 3))
            log(f"  seed {seed}, {'cross-modal' if cross else 'no cross-modal (ablation)'}: "
                f"image {clean['image']:.3f}, audio {clean['audio']:.3f}, both "
                f"{clean['both']:.3f} (validation: both {valid['both']:.3f})"
                + (f"; deployed (8-bit integers): both {metrics['deployed_accuracy']:.3f}"
                   if cross else ""))
            tables["cross" if cross else "no_cross"] = robustness(net, labels, scfg, data, img,
                                                                  aud, y, pred, clusters)
            if cross and not first:
                first.update(net=net, labels=labels, metrics=metrics)
        rows = [r for r in tables["cross"] if r["level"] is not None]
        metrics["noise_conditions"] = len(rows)
        if rows:  # the share of noise conditions where fusing beats the better modality
            metrics["noise_multimodal_above_best_unimodal"] = float(np.mean(
                [r["multimodal"] >= max(r["noisy_modality_alone"], r["clean_modality_alone"])
                 for r in rows]))
            # ... and where it does so beyond the 95% interval (its lower end above 0)
            metrics["noise_multimodal_significantly_above_best"] = float(np.mean(
                [r["multimodal_minus_best_ci_low"] > 0 for r in rows]))
        metrics["train_pairs"] = n_train * cfg.epochs
        seed_tables.append(tables)
        return metrics

    metrics, extra = protocol.run(one_seed, log)
    trained, trained_labels = first["net"], first["labels"]
    label_dict = {k: getattr(trained_labels, k) for k in
                  ("image_alone", "audio_alone", "image_both", "audio_both")}
    if cfg.lava_pairs:
        n = min(cfg.lava_pairs, len(y))
        metrics.update(lava_fixed_check(pair_to_fixed_point(trained), label_dict, img[:n],
                                        aud[:n], y[:n], cfg.seed + 4, log=log))
        log(f"  Lava fixed_pt (seed {cfg.seed}'s network): accuracy "
            f"{metrics['lava_accuracy']:.3f}, agreement with the integer engine "
            f"{metrics['lava_agreement']:.3f} on {n} pairs")
    if write:
        tables = mean_tables(seed_tables)
        card = {"model": "multimodal STDP ensembles (image + audio, cross-modal STDP)",
                "dataset": dataset, "config": asdict(cfg), "metrics": first["metrics"],
                "seed": cfg.seed, "protocol": protocol.as_dict(), "validation": info,
                "commit": commit}
        save_pair_model(model_dir / f"{experiment}.h5", trained, label_dict, card)
        plot_robustness(tables, out_dir / f"{experiment}_robustness.png", title=dataset)
        write_results(out_dir, experiment, dataset=dataset, metrics=metrics,
                      method="multimodal", config={**asdict(cfg),
                                                   "protocol": protocol.as_dict()},
                      commit=commit, paper=PAPER,
                      extra={**extra, "robustness": tables,
                             "robustness_per_seed": seed_tables, "lava_check_seed": cfg.seed,
                             "lava_check_tag": "fixed_pt"},
                      validation=info, headline=[k for k in HEADLINE if k in metrics],
                      allow_dirty=allow_dirty)
    return metrics


def check_saved_model(path: str | Path, data: MultimodalData, pairs: int, out_dir: str | Path,
                      *, dataset: str, tag: str = "fixed_pt", log=print,
                      allow_dirty: bool = False) -> dict[str, float]:
    """Run a saved model (:func:`lava_thesis.multimodal.model_io.save_pair_model`) in Lava on
    the first ``pairs`` test pairs of its own experiment (same pairing seed) against the
    engine: ``tag`` ``"fixed_pt"`` the deployed integer network against the integer engine
    (:func:`~lava_thesis.multimodal.lava_check.lava_fixed_check`), ``"floating_pt"`` the float
    network against the float engine. Writes ``<out_dir>/<model stem>_lava.json`` (fixed_pt)
    or ``<model stem>_lava_floating_pt.json``."""
    from lava_thesis.multimodal.fixed_point import pair_to_fixed_point
    from lava_thesis.multimodal.lava_check import lava_check, lava_fixed_check
    from lava_thesis.multimodal.model_io import load_pair_model

    if tag not in ("fixed_pt", "floating_pt"):
        raise ValueError(f"tag must be fixed_pt or floating_pt, got {tag!r}")
    net, labels, card = load_pair_model(path)
    seed = int(card.get("config", {}).get("seed", 0))
    img, aud, y = paired_test_set(data, seed + 2,
                                  int(card.get("config", {}).get("images_per_utterance", 1)))
    n = min(pairs, len(y))
    if tag == "fixed_pt":
        metrics = lava_fixed_check(pair_to_fixed_point(net), labels, img[:n], aud[:n], y[:n],
                                   seed + 4, log=log)
    else:
        metrics = lava_check(net, labels, img[:n], aud[:n], y[:n], seed + 4, log=log)
    name = f"{Path(path).stem}_lava" + ("" if tag == "fixed_pt" else "_floating_pt")
    write_results(out_dir, name, dataset=dataset, metrics=metrics, method="multimodal",
                  config={"model": str(path), "pairs": n, "tag": tag},
                  headline=["lava_accuracy", "lava_agreement", "lava_spike_count_match"],
                  allow_dirty=allow_dirty)
    return metrics
