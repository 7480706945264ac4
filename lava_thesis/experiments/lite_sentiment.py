"""LITE-SNN sentiment experiment (method 5): LIF text classifier vs RNN, LSTM, GRU.

Data: the UCI Sentiment Labelled Sentences (IMDB, Amazon, Yelp; 3,000 sentences). Split: one
fixed seeded 80/20 train/test split, stratified by (source, label) so that every source and
class keeps its share; the vocabulary comes from the training part only. Every model has the
same 100-d embedding (trained from scratch), hidden size 256 and head, and is trained with Adam
and binary cross-entropy for ``epochs`` epochs; the test accuracy is the last epoch's (no
model selection on the test set). Energy per inference is measured on the test sentences
(:func:`~lava_thesis.lite.sentiment.snn_energy`,
:func:`~lava_thesis.lite.sentiment.recurrent_energy`).

``run(LiteSentimentConfig(...))`` writes ``<out_dir>/<experiment>.json`` and
``<out_dir>/<experiment>.png`` and returns the metrics.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis.data.sentiment import SOURCES, load_sentiment
from lava_thesis.data.splits import stratified_split
from lava_thesis.lite.sentiment import (
    LiteSNN,
    RecurrentClassifier,
    count_parameters,
    recurrent_energy,
    snn_energy,
)
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize
from lava_thesis.plots import plot_model_bars
from lava_thesis.results import write_results
from lava_thesis.training import fit

MODELS = ("snn", "rnn", "lstm", "gru")
HEADLINE = ("snn_test_accuracy", "lstm_test_accuracy", "gru_test_accuracy", "rnn_test_accuracy",
            "snn_params_trunk", "lstm_params_trunk", "snn_energy_pj", "lstm_energy_pj")


@dataclass
class LiteSentimentConfig:
    """Settings of one run (stored in the results file)."""

    sources: tuple[str, ...] = SOURCES
    subset: int | None = None  #: a seeded stratified sample of this many sentences (tests)
    test_fraction: float = 0.2
    split_seed: int = 0
    max_len: int = 40  #: tokens kept per sentence (99% of the sentences are shorter)
    min_count: int = 1
    max_vocab: int | None = None
    embed_dim: int = 100
    hidden: int = 256
    steps_per_token: int = 5
    models: tuple[str, ...] = MODELS
    epochs: int = 8
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    data_dir: str | None = None
    out_dir: str = "results"
    experiment: str = "lite_sentiment"


def build_model(kind: str, vocab_size: int, cfg: LiteSentimentConfig) -> torch.nn.Module:
    """``"snn"`` -> :class:`LiteSNN`; ``"rnn"``/``"lstm"``/``"gru"`` -> the baseline."""
    if kind == "snn":
        return LiteSNN(vocab_size, cfg.embed_dim, cfg.hidden, cfg.steps_per_token)
    return RecurrentClassifier(vocab_size, kind, cfg.embed_dim, cfg.hidden)


def _batch(ids: torch.Tensor, lengths: torch.Tensor, idx: np.ndarray
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples ``idx``, trimmed to their longest sentence (padding never matters)."""
    n = lengths[idx]
    return ids[idx, :int(n.max())], n


@torch.no_grad()
def predict(model: torch.nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
            batch_size: int = 256) -> np.ndarray:
    """Predicted labels (logit > 0) of all samples."""
    model.eval()
    out = [model(*_batch(ids, lengths, np.arange(s, min(s + batch_size, len(ids))))) > 0
           for s in range(0, len(ids), batch_size)]
    return torch.cat(out).long().numpy()


def train(model: torch.nn.Module, ids: torch.Tensor, lengths: torch.Tensor, labels: np.ndarray,
          cfg: LiteSentimentConfig, log=print, name: str = "") -> list[float]:
    """Adam + BCE for ``cfg.epochs``; returns the running training accuracy per epoch.

    BCE with logit ``z`` equals the cross-entropy of the two logits ``(0, z)`` (softmax of
    ``(0, z)`` is ``(1 - sigmoid(z), sigmoid(z))``), so the shared loop :func:`fit` is used.
    """
    def forward(idx: np.ndarray) -> tuple[torch.Tensor, float]:
        z = model(*_batch(ids, lengths, idx))
        return torch.stack([torch.zeros_like(z), z], 1), 0.0

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    return fit(model, forward, labels, opt, epochs=cfg.epochs, batch_size=cfg.batch_size,
               generator=gen, desc=name,
               on_epoch=lambda e, a: log(f"  {name} epoch {e + 1}: train accuracy {a:.3f}"))


def run(config: LiteSentimentConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Train and evaluate ``config.models``; write the results JSON and bar plot.

    ``command`` is recorded in the results (default: this process's command line).
    """
    cfg = config or LiteSentimentConfig()
    sentences, labels, source_ids = load_sentiment(cfg.data_dir, cfg.sources)
    groups = source_ids * 2 + labels
    if cfg.subset is not None and cfg.subset < len(labels):
        keep = stratified_split(groups, cfg.subset / len(labels), cfg.split_seed + 1)[1]
        sentences, labels, groups = [sentences[i] for i in keep], labels[keep], groups[keep]
    tr, te = stratified_split(groups, cfg.test_fraction, cfg.split_seed)
    vocab = Vocab.build((tokenize(sentences[i]) for i in tr), min_count=cfg.min_count,
                        max_size=cfg.max_vocab)
    ids_np, len_np = encode_sentences(sentences, vocab, cfg.max_len)
    ids, lengths = torch.from_numpy(ids_np), torch.from_numpy(len_np)
    log(f"LITE sentiment: {len(tr)} train / {len(te)} test sentences, vocabulary {len(vocab)}")
    metrics: dict[str, float] = {"train_samples": len(tr), "test_samples": len(te),
                                 "vocab_size": len(vocab),
                                 "unk_rate_test": float((ids_np[te] == 1).sum() / len_np[te].sum())}
    for kind in cfg.models:
        torch.manual_seed(cfg.seed)
        model = build_model(kind, len(vocab), cfg)
        t0 = time.perf_counter()
        train(model, ids[tr], lengths[tr], labels[tr], cfg, log, kind)
        metrics[f"{kind}_train_seconds"] = round(time.perf_counter() - t0, 1)
        metrics[f"{kind}_train_accuracy"] = float((predict(model, ids[tr], lengths[tr])
                                                   == labels[tr]).mean())
        metrics[f"{kind}_test_accuracy"] = float((predict(model, ids[te], lengths[te])
                                                  == labels[te]).mean())
        metrics[f"{kind}_params"] = count_parameters(model)
        metrics[f"{kind}_params_trunk"] = count_parameters(model, embedding=False)
        cost = (snn_energy(model, ids[te], lengths[te]) if kind == "snn"
                else recurrent_energy(model, lengths[te]))
        metrics.update({f"{kind}_{k}": v for k, v in cost.items()})
        if kind == "snn":
            for name in ("lif1", "lif2"):
                layer = getattr(model, name)
                metrics[f"snn_threshold_{name}"] = layer.threshold.item()
                metrics[f"snn_leak_{name}"] = layer.leak.clamp(0, 1).item()
            metrics["snn_leak_integrator"] = model.out.leak.clamp(0, 1).item()
        log(f"  {kind}: test accuracy {metrics[f'{kind}_test_accuracy']:.4f}, "
            f"{metrics[f'{kind}_params_trunk']} trunk parameters, "
            f"{metrics[f'{kind}_energy_pj'] / 1e6:.3g} µJ per inference")
    out_dir = Path(cfg.out_dir)
    plot_model_bars(metrics, cfg.models, [m.upper() for m in cfg.models],
                    out_dir / f"{cfg.experiment}.png", params_key="params_trunk")
    write_results(out_dir, cfg.experiment, dataset="UCI sentiment (" + "+".join(cfg.sources) + ")",
                  metrics=metrics, method="lite", config=asdict(cfg),
                  command=command,
                  headline=[k for k in HEADLINE if k in metrics],
                  extra={"split": f"stratified by (source, label), test fraction "
                                  f"{cfg.test_fraction}, seed {cfg.split_seed}",
                         "energy": "45 nm: MAC 4.6 pJ, AC 0.9 pJ; SNN fc1 (analog embedding "
                                   "input) MACs every step, fc2/fc3 SynOps; RNNs MACs per token"},
                  paper={"snn_params_trunk": "~157k (authors' code) vs ~367k LSTM(100->256)",
                         "snn_test_accuracy": "fewer parameters and lower energy than "
                                              "LSTM/GRU (accuracy unverified)"},
                  allow_dirty=allow_dirty)
    return metrics
