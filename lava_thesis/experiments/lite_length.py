"""LITE-SNN accuracy vs. sequence length (method 5): does a vanilla SNN lose a
label that must be carried across ``L`` tokens, and does attention over time fix it?

Data: the UCI Sentiment Labelled Sentences, the same stratified 80/20 train/test split, the
same validation split carved off the training part and the same vocabulary (from the remaining
training sentences) as :mod:`lava_thesis.experiments.lite_sentiment`. The vocabulary is
extended by ``n_filler`` tokens ``"<filler0>" ...`` that the tokenizer can never produce (``<``
is a token of its own), and each sentence (its first ``max_len`` tokens, ``n`` of them) becomes
a sequence of ``n + L`` tokens::

    place="start":  w_1 ... w_n f_1 ... f_L   (the label must be carried across L tokens)
    place="end":    f_1 ... f_L w_1 ... w_n   (control: the same length, nothing to carry)

with the fillers ``f`` drawn uniformly at random (seeded by the model seed, ``L`` and the
place: the same draws for every model of a seed).

Models, all with the same 100-d embedding, hidden size 256 and head ``Linear(256->1)``:
``snn`` the vanilla LiteSNN (mean of the integrator over all valid steps), ``snn_last`` the
same trunk read out at the last step, ``snn_attn`` the same trunk with attention pooling over
time (:mod:`lava_thesis.lite.attention`), ``lstm`` an LSTM(100->256) read at the last token.
For every seed of the :class:`~lava_thesis.protocol.Protocol` each model is trained from the
same initialisation (that seed) with Adam and BCE for ``epochs`` epochs at every ``(place, L)``;
it keeps the weights of its best validation epoch and is tested once. The per-seed paired
differences ``snn_minus_lstm_L<L>``, ``snn_attn_minus_snn_L<L>`` (and ``..._end_L<L>``) compare
the models on the same seed and data.

``run(LiteLengthConfig(...))`` writes ``<out_dir>/<experiment>.json`` (rewritten after every
seed, so an interrupted run keeps the seeds it finished) and ``<out_dir>/<experiment>.png`` and
returns the metrics (seed means): ``<model>_accuracy_L<L>`` (sentence at the start) and
``<model>_accuracy_end_L<L>`` (the control), both test accuracies in [0, 1].
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.data.sentiment import SOURCES
from lava_thesis.device import resolve_device
from lava_thesis.experiments import lite_sentiment
from lava_thesis.experiments.lite_sentiment import (
    load_split,
    paired_differences,
    predict,
    train,
)
from lava_thesis.lite.attention import AttentionSNN, LastStepSNN
from lava_thesis.lite.sentiment import count_parameters
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.protocol import Protocol, or_single_seed, seed_results
from lava_thesis.results import git_commit, write_results

MODELS = ("snn", "snn_last", "snn_attn", "lstm")
NAMES = {"snn": "SNN (mean readout)", "snn_last": "SNN (last-step readout)",
         "snn_attn": "SNN + attention", "lstm": "LSTM", "rnn": "RNN", "gru": "GRU"}
PLACES = ("start", "end")
#: the paired comparisons: ``<a>_minus_<b>_L<L>`` per seed
PAIRS = (("snn", "lstm"), ("snn_attn", "snn"))


@dataclass
class LiteLengthConfig:
    """Settings of one run (stored in the results file)."""

    sources: tuple[str, ...] = SOURCES
    subset: int | None = None  #: a seeded stratified sample of this many sentences (tests)
    test_fraction: float = 0.2
    split_seed: int = 0  #: seed of the train/test split (fixed; not one of the model seeds)
    val_fraction: float = 0.1  #: validation share of the training part when run without protocol
    max_len: int = 40  #: sentence tokens kept (99% of the sentences are shorter)
    min_count: int = 1
    max_vocab: int | None = None
    n_filler: int = 20  #: size of the filler vocabulary
    lengths: tuple[int, ...] = (0, 25, 100)  #: filler tokens L, sentence at the start
    control_lengths: tuple[int, ...] = (100,)  #: L with the sentence at the end
    embed_dim: int = 100
    hidden: int = 256
    steps_per_token: int = 1  #: 5 in lite_sentiment; 1 here to afford L = 100
    attn_dim: int = 64
    models: tuple[str, ...] = MODELS
    epochs: int = 6
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    data_dir: str | None = None
    out_dir: str = "results"
    experiment: str = "lite_length"
    device: str = "cpu"  #: where the models train and run: cpu, cuda, cuda:N or auto


def headline(cfg: LiteLengthConfig) -> list[str]:
    """The metrics the results table shows: per model the test accuracy at the shortest and
    the longest ``L`` with the sentence at the start and at the longest control ``L``; then the
    paired differences (:data:`PAIRS`) at the longest ``L``."""
    starts = sorted(set(cfg.lengths))
    ends = sorted(n for n in set(cfg.control_lengths) if n > 0)
    tags = ([f"L{n}" for n in dict.fromkeys((starts[0], starts[-1]))] if starts else [])
    tags += [f"end_L{ends[-1]}"] if ends else []
    keys = [f"{m}_accuracy_{t}" for m in cfg.models for t in tags]
    if starts:
        keys += [f"{a}_minus_{b}_L{starts[-1]}" for a, b in PAIRS
                 if a in cfg.models and b in cfg.models]
    return keys


def filler_vocab(vocab: Vocab, n_filler: int) -> tuple[Vocab, np.ndarray]:
    """``vocab`` extended by ``n_filler`` tokens ``"<filler0>"`` ...: the new vocabulary and the
    fillers' ids ``(n_filler,)`` (``len(vocab)`` on). Raises ValueError if one is taken."""
    if n_filler < 1:
        raise ValueError(f"n_filler must be >= 1, got {n_filler}")
    fillers = tuple(f"<filler{k}>" for k in range(n_filler))
    taken = sorted(set(fillers) & set(vocab.stoi))
    if taken:
        raise ValueError(f"filler tokens already in the vocabulary: {taken}")
    return Vocab((*vocab.itos, *fillers)), np.arange(len(vocab), len(vocab) + n_filler)


def add_filler(ids: np.ndarray, lengths: np.ndarray, n_tokens: int, filler_ids: np.ndarray,
               rng: np.random.Generator, place: str = "start") -> tuple[np.ndarray, np.ndarray]:
    """Put ``n_tokens`` random fillers after (``place="start"``: the sentence comes first) or
    before (``"end"``) each sentence.

    Parameters
    ----------
    ids, lengths : ``(N, M)`` right-padded ids and ``(N,)`` lengths (:func:`encode_sentences`)
    n_tokens : int
        ``L >= 0``.
    filler_ids : the ids to draw from, uniformly (:func:`filler_vocab`)
    rng : the draws' generator
    place : ``"start"`` or ``"end"``, where the sentence goes

    Returns
    -------
    ids : ``(N, max(lengths) + L)`` int64, right-padded with 0
    lengths : ``(N,)`` int64, ``lengths + L``
    """
    if place not in PLACES:
        raise ValueError(f"place must be one of {PLACES}, got {place!r}")
    if n_tokens < 0:
        raise ValueError(f"n_tokens must be >= 0, got {n_tokens}")
    lengths = np.asarray(lengths, np.int64)
    out = np.zeros((len(ids), int(lengths.max()) + n_tokens), np.int64)
    draws = rng.choice(np.asarray(filler_ids, np.int64), size=(len(ids), n_tokens))
    for i, n in enumerate(lengths):
        parts = (ids[i, :n], draws[i]) if place == "start" else (draws[i], ids[i, :n])
        out[i, :n + n_tokens] = np.concatenate(parts)
    return out, lengths + n_tokens


def build_model(kind: str, vocab_size: int, cfg: LiteLengthConfig) -> torch.nn.Module:
    """``"snn_attn"`` -> :class:`AttentionSNN`, ``"snn_last"`` -> :class:`LastStepSNN`; the
    others as in :func:`lava_thesis.experiments.lite_sentiment.build_model`."""
    if kind == "snn_attn":
        return AttentionSNN(vocab_size, cfg.embed_dim, cfg.hidden, cfg.steps_per_token,
                            attn_dim=cfg.attn_dim)
    if kind == "snn_last":
        return LastStepSNN(vocab_size, cfg.embed_dim, cfg.hidden, cfg.steps_per_token)
    return lite_sentiment.build_model(kind, vocab_size, cfg)


def plot_curves(ax, curves: Sequence[tuple[str, Sequence[tuple[float, str]], dict[str, Any]]],
                metrics: Mapping[str, float],
                per_seed: Mapping[str, Sequence[float]] | None = None) -> None:
    """Draw each ``(label, [(x, metric key)], plot style)`` curve in percent: the mean over the
    seeds (``metrics``) with a band from the smallest to the largest seed's value
    (``per_seed``, where it has more than one; not for a style with ``"band": False``).
    Missing keys are left out."""
    for label, points, style in curves:
        style = dict(style)
        band = style.pop("band", True)
        pts = [(x, metrics[k], (per_seed or {}).get(k)) for x, k in points if k in metrics]
        if not pts:
            continue
        xs = [x for x, _, _ in pts]
        ax.plot(xs, [100 * y for _, y, _ in pts], label=label, **style)
        if band and all(v is not None and len(v) > 1 for _, _, v in pts):
            ax.fill_between(xs, [100 * min(v) for _, _, v in pts],
                            [100 * max(v) for _, _, v in pts], color=style.get("color"),
                            alpha=0.15, lw=0)


def plot_length(metrics: Mapping[str, float], cfg: LiteLengthConfig, path: str | Path,
                per_seed: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Test accuracy (%) vs. L, one colour per model: solid = sentence at the start, dashed =
    sentence at the end (control; its L = 0 point is the start run's); the mean over the
    seeds, the solid curves with their min-max band."""
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    curves = []
    for i, kind in enumerate(cfg.models):
        curves.append((NAMES.get(kind, kind), [(x, f"{kind}_accuracy_L{x}") for x in cfg.lengths],
                       {"marker": "o", "ls": "-", "color": f"C{i}"}))
        if any(x for x in cfg.control_lengths):
            end = [(x, f"{kind}_accuracy_end_L{x}" if x else f"{kind}_accuracy_L0")
                   for x in sorted({0, *cfg.control_lengths})]
            curves.append((NAMES.get(kind, kind) + " (sentence at end)", end,
                           {"marker": "s", "ls": "--", "color": f"C{i}", "band": False}))
    plot_curves(ax, curves, metrics, per_seed)
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("filler tokens L between the sentence and the readout (solid)")
    ax.set_ylabel("test accuracy (%)")
    n = len(next(iter(per_seed.values()))) if per_seed else 1
    ax.set_title(f"UCI sentiment: accuracy vs. distance ({cfg.steps_per_token} step/token, "
                 f"{n} seed{'s' if n > 1 else ''})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def run(config: LiteLengthConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False,
        protocol: Protocol | None = None) -> dict[str, float]:
    """Train and evaluate ``config.models`` at every length and placement, one model of each
    per seed of ``protocol`` (default: one seed, ``config.seed``, validation share
    ``config.val_fraction``); write the results JSON and plot. ``command`` is recorded in the
    results (default: this command line). Returns the metrics (seed means)."""
    cfg = config or LiteLengthConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0], val_fraction=protocol.val_fraction)
    commit = git_commit()  # the code the run started from
    dev = resolve_device(cfg.device)
    data = load_split(cfg, protocol)
    tr, va, te, labels = data.train, data.val, data.test, data.labels
    base = Vocab.build((tokenize(data.sentences[i]) for i in tr), min_count=cfg.min_count,
                       max_size=cfg.max_vocab)
    vocab, filler_ids = filler_vocab(base, cfg.n_filler)
    ids_np, len_np = encode_sentences(data.sentences, vocab, cfg.max_len)
    log(f"LITE length: {len(tr)} train / {len(va)} validation / {len(te)} test sentences, "
        f"vocabulary {len(base)} + {cfg.n_filler} fillers, mean sentence "
        f"{len_np.mean():.1f} tokens")
    fixed: dict[str, float] = {"train_samples": len(tr), "val_samples": len(va),
                               "test_samples": len(te), "vocab_size": len(vocab),
                               "mean_sentence_tokens": float(len_np.mean())}
    runs = ([("start", n) for n in cfg.lengths]
            + [("end", n) for n in cfg.control_lengths if n > 0])
    done: dict[str, list[float]] = {}

    def one_seed(seed: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for place, n_fill in runs:
            rng = np.random.default_rng([seed, n_fill, PLACES.index(place)])
            x_np, n_np = add_filler(ids_np, len_np, n_fill, filler_ids, rng, place)
            ids, lengths = torch.from_numpy(x_np).to(dev), torch.from_numpy(n_np).to(dev)
            tag = f"end_L{n_fill}" if place == "end" else f"L{n_fill}"
            for kind in cfg.models:
                torch.manual_seed(seed)
                model = build_model(kind, len(vocab), cfg).to(dev)
                t0 = time.perf_counter()
                best = train(model, ids[tr], lengths[tr], labels[tr], cfg, lambda _: None,
                             f"{kind} {tag}", seed=seed, val=(ids[va], lengths[va], labels[va]),
                             device=dev)
                metrics[f"{kind}_seconds_{tag}"] = round(time.perf_counter() - t0, 1)
                metrics[f"{kind}_best_epoch_{tag}"] = best.best_epoch
                metrics[f"{kind}_train_accuracy_{tag}"] = best.train_history[best.best_epoch - 1]
                if best.best_val_accuracy is not None:
                    metrics[f"{kind}_val_accuracy_{tag}"] = best.best_val_accuracy
                acc = float((predict(model, ids[te], lengths[te]) == labels[te]).mean())
                metrics[f"{kind}_accuracy_{tag}"] = acc
                metrics[f"{kind}_params_trunk"] = count_parameters(model, embedding=False)
                if kind.startswith("snn"):
                    metrics[f"{kind}_leak_integrator_{tag}"] = model.out.leak.clamp(0, 1).item()
                log(f"  seed {seed} {place:5s} L={n_fill:3d} {kind:8s}: test accuracy {acc:.4f} "
                    f"(epoch {best.best_epoch}, {metrics[f'{kind}_seconds_{tag}']:.0f} s)")
        tags = [f"_L{n}" for n in cfg.lengths] + [f"_end_L{n}" for n in cfg.control_lengths]
        metrics.update(paired_differences(metrics, PAIRS, tuple(tags),
                                          lambda m, t: f"{m}_accuracy{t}"))
        for key, value in metrics.items():  # an interrupted run keeps the seeds it finished
            done.setdefault(key, []).append(value)
        n_done = len(next(iter(done.values())))
        partial, extra = seed_results(protocol.seeds[:n_done], done)
        _write({**fixed, **partial}, extra, cfg, protocol, data.validation, command, commit,
               allow_dirty)
        return metrics

    if runs:  # the last seed's file is the final one
        return {**fixed, **protocol.run(one_seed, log)[0]}
    _write(fixed, {"seeds": list(protocol.seeds)}, cfg, protocol, data.validation, command,
           commit, allow_dirty)
    return fixed


def _write(metrics: dict[str, float], seed_extra: dict[str, Any], cfg: LiteLengthConfig,
           protocol: Protocol, validation: dict[str, Any], command: str | None, commit: str,
           allow_dirty: bool = False) -> None:
    out_dir = Path(cfg.out_dir)
    plot_length(metrics, cfg, out_dir / f"{cfg.experiment}.png", seed_extra.get("per_seed"))
    write_results(
        out_dir, cfg.experiment, dataset="UCI sentiment (" + "+".join(cfg.sources) + ")",
        metrics=metrics, method="lite", config={**asdict(cfg), "protocol": protocol.as_dict()},
        command=command, commit=commit, validation=validation,
        headline=[k for k in headline(cfg) if k in metrics],
        extra={**seed_extra,
               "split": f"test: stratified by (source, label), fraction {cfg.test_fraction}, "
                        f"seed {cfg.split_seed}; validation: {protocol.val_fraction} of the "
                        f"training part, stratified the same way, seed {protocol.val_seed}",
               "selection": "each model keeps the weights of its epoch with the best validation "
                            "accuracy (earliest on ties); the test set is evaluated once per "
                            "model",
               "paired": "<a>_minus_<b>_L<L>: test accuracy of a minus b per seed (same seed, "
                         "data, fillers and split), then the mean over seeds",
               "sequences": f"sentence (<= {cfg.max_len} tokens) then L random filler tokens "
                            f"of {cfg.n_filler} ('_L<L>'), or the fillers first ('_end_L<L>', "
                            f"control); {cfg.steps_per_token} time step(s) per token",
               "models": "; ".join(f"{k}: {NAMES.get(k, k)}" for k in cfg.models)},
        paper={"snn_accuracy_L100": "vanilla SNNs suffer vanishing gradients on long "
                                    "sequences (motivation of the conv SNN with attention); "
                                    "no number given"}, allow_dirty=allow_dirty)
