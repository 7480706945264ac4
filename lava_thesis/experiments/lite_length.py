"""LITE-SNN accuracy vs. sequence length (method 5): does a vanilla SNN lose a
label that must be carried across ``L`` tokens, and does attention over time fix it?

Data: the UCI Sentiment Labelled Sentences, the same stratified 80/20 split and training-split
vocabulary as :mod:`lava_thesis.experiments.lite_sentiment`. The vocabulary is extended by
``n_filler`` tokens ``"<filler0>" ...`` that the tokenizer can never produce (``<`` is a token
of its own), and each sentence (its first ``max_len`` tokens, ``n`` of them) becomes a sequence
of ``n + L`` tokens::

    place="start":  w_1 ... w_n f_1 ... f_L   (the label must be carried across L tokens)
    place="end":    f_1 ... f_L w_1 ... w_n   (control: the same length, nothing to carry)

with the fillers ``f`` drawn uniformly at random (seeded, the same draws for every model).

Models, all with the same 100-d embedding, hidden size 256 and head ``Linear(256->1)``:
``snn`` the vanilla LiteSNN (mean of the integrator over all valid steps), ``snn_last`` the
same trunk read out at the last step, ``snn_attn`` the same trunk with attention pooling over
time (:mod:`lava_thesis.lite.attention`), ``lstm`` an LSTM(100->256) read at the last token.
Each model is trained from the same initialisation (seed) with Adam and BCE for ``epochs``
epochs at every ``(place, L)``; the test accuracy is the last epoch's (no model selection).

``run(LiteLengthConfig(...))`` writes ``<out_dir>/<experiment>.json`` (rewritten after every
``(place, L)``, so an interrupted run keeps what it finished) and ``<out_dir>/<experiment>.png``
and returns the metrics: ``<model>_accuracy_L<L>`` (sentence at the start) and
``<model>_accuracy_end_L<L>`` (the control), both test accuracies in [0, 1].
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis.data.sentiment import SOURCES, load_sentiment
from lava_thesis.data.splits import stratified_split
from lava_thesis.experiments import lite_sentiment
from lava_thesis.experiments.lite_sentiment import predict, train
from lava_thesis.lite.attention import AttentionSNN, LastStepSNN
from lava_thesis.lite.sentiment import count_parameters
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.results import write_results

MODELS = ("snn", "snn_last", "snn_attn", "lstm")
NAMES = {"snn": "SNN (mean readout)", "snn_last": "SNN (last-step readout)",
         "snn_attn": "SNN + attention", "lstm": "LSTM", "rnn": "RNN", "gru": "GRU"}
PLACES = ("start", "end")
HEADLINE = tuple(f"{m}_accuracy_{t}" for m in MODELS for t in ("L0", "L100", "end_L100"))


@dataclass
class LiteLengthConfig:
    """Settings of one run (stored in the results file)."""

    sources: tuple[str, ...] = SOURCES
    subset: int | None = None  #: a seeded stratified sample of this many sentences (tests)
    test_fraction: float = 0.2
    split_seed: int = 0
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


def plot_length(metrics: dict[str, float], cfg: LiteLengthConfig, path: str | Path) -> Path:
    """Test accuracy (%) vs. L, one colour per model: solid = sentence at the start, dashed =
    sentence at the end (control; its L = 0 point is the start run's)."""
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    for i, kind in enumerate(cfg.models):
        start = [(x, metrics.get(f"{kind}_accuracy_L{x}")) for x in cfg.lengths]
        end = [(x, metrics.get(f"{kind}_accuracy_end_L{x}" if x else f"{kind}_accuracy_L0"))
               for x in sorted({0, *cfg.control_lengths})]
        for points, style, suffix in ((start, "o-", ""), (end, "s--", " (sentence at end)")):
            points = [(x, 100 * y) for x, y in points if y is not None]
            if points and (suffix == "" or any(x for x, _ in points)):  # control: L > 0
                ax.plot(*zip(*points, strict=True), style, color=f"C{i}",
                        label=NAMES.get(kind, kind) + suffix)
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("filler tokens L between the sentence and the readout (solid)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"UCI sentiment: accuracy vs. distance ({cfg.steps_per_token} step/token)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def run(config: LiteLengthConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Train and evaluate ``config.models`` at every length and placement; write the results
    JSON and plot. ``command`` is recorded in the results (default: this command line)."""
    cfg = config or LiteLengthConfig()
    sentences, labels, source_ids = load_sentiment(cfg.data_dir, cfg.sources)
    groups = source_ids * 2 + labels
    if cfg.subset is not None and cfg.subset < len(labels):
        keep = stratified_split(groups, cfg.subset / len(labels), cfg.split_seed + 1)[1]
        sentences, labels, groups = [sentences[i] for i in keep], labels[keep], groups[keep]
    tr, te = stratified_split(groups, cfg.test_fraction, cfg.split_seed)
    base = Vocab.build((tokenize(sentences[i]) for i in tr), min_count=cfg.min_count,
                       max_size=cfg.max_vocab)
    vocab, filler_ids = filler_vocab(base, cfg.n_filler)
    ids_np, len_np = encode_sentences(sentences, vocab, cfg.max_len)
    log(f"LITE length: {len(tr)} train / {len(te)} test sentences, vocabulary {len(base)} + "
        f"{cfg.n_filler} fillers, mean sentence {len_np.mean():.1f} tokens")
    metrics: dict[str, float] = {"train_samples": len(tr), "test_samples": len(te),
                                 "vocab_size": len(vocab),
                                 "mean_sentence_tokens": float(len_np.mean())}
    runs = ([("start", n) for n in cfg.lengths]
            + [("end", n) for n in cfg.control_lengths if n > 0])
    out_dir = Path(cfg.out_dir)
    for place, n_fill in runs:
        rng = np.random.default_rng([cfg.seed, n_fill, PLACES.index(place)])
        x_np, n_np = add_filler(ids_np, len_np, n_fill, filler_ids, rng, place)
        ids, lengths = torch.from_numpy(x_np), torch.from_numpy(n_np)
        tag = f"end_L{n_fill}" if place == "end" else f"L{n_fill}"
        for kind in cfg.models:
            torch.manual_seed(cfg.seed)
            model = build_model(kind, len(vocab), cfg)
            t0 = time.perf_counter()
            hist = train(model, ids[tr], lengths[tr], labels[tr], cfg, lambda _: None,
                         f"{kind} {tag}")
            metrics[f"{kind}_seconds_{tag}"] = round(time.perf_counter() - t0, 1)
            metrics[f"{kind}_train_accuracy_{tag}"] = hist[-1]  # running, last epoch
            acc = float((predict(model, ids[te], lengths[te]) == labels[te]).mean())
            metrics[f"{kind}_accuracy_{tag}"] = acc
            metrics[f"{kind}_params_trunk"] = count_parameters(model, embedding=False)
            if kind.startswith("snn"):
                metrics[f"{kind}_leak_integrator_{tag}"] = model.out.leak.clamp(0, 1).item()
            log(f"  {place:5s} L={n_fill:3d} {kind:8s}: test accuracy {acc:.4f} "
                f"(train {hist[-1]:.3f}, {metrics[f'{kind}_seconds_{tag}']:.0f} s)")
        _write(metrics, cfg, out_dir, command, allow_dirty)
    if not runs:
        _write(metrics, cfg, out_dir, command, allow_dirty)
    return metrics


def _write(metrics: dict[str, float], cfg: LiteLengthConfig, out_dir: Path,
           command: str | None, allow_dirty: bool = False) -> None:
    plot_length(metrics, cfg, out_dir / f"{cfg.experiment}.png")
    write_results(
        out_dir, cfg.experiment, dataset="UCI sentiment (" + "+".join(cfg.sources) + ")",
        metrics=metrics, method="lite", config=asdict(cfg), command=command,
        headline=[k for k in HEADLINE if k in metrics],
        extra={"split": f"stratified by (source, label), test fraction {cfg.test_fraction}, "
                        f"seed {cfg.split_seed}",
               "sequences": f"sentence (<= {cfg.max_len} tokens) then L random filler tokens "
                            f"of {cfg.n_filler} ('_L<L>'), or the fillers first ('_end_L<L>', "
                            f"control); {cfg.steps_per_token} time step(s) per token",
               "models": "; ".join(f"{k}: {NAMES.get(k, k)}" for k in cfg.models)},
        paper={"snn_accuracy_L100": "vanilla SNNs suffer vanishing gradients on long "
                                    "sequences (motivation of the conv SNN with attention); "
                                    "no number given"}, allow_dirty=allow_dirty)
