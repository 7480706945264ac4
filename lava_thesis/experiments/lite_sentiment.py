"""LITE-SNN sentiment experiment (method 5): LIF text classifier vs RNN, LSTM, GRU.

Data: the UCI Sentiment Labelled Sentences (IMDB, Amazon, Yelp; 3,000 sentences). Splits
(:func:`split_sentences`): one fixed seeded 80/20 train/test split, stratified by (source,
label) so that every source and class keeps its share; the protocol's validation split is carved
off the training part (stratified the same way); the vocabulary comes from the remaining
training sentences only. Every model has the same 100-d embedding (trained from scratch), hidden
size 256 and head, and is trained with Adam and binary cross-entropy for ``epochs`` epochs; the
weights of the epoch with the best validation accuracy are kept (:class:`BestEpoch`) and the
test set is evaluated once per model. One model of every kind is trained per seed of the
:class:`~lava_thesis.protocol.Protocol` (paired: the same seeds, data and split for every kind);
``snn_minus_<kind>`` is the per-seed difference of test accuracies. Energy per inference is
measured on the test sentences (:func:`~lava_thesis.lite.sentiment.snn_energy`,
:func:`~lava_thesis.lite.sentiment.recurrent_energy`).

``run(LiteSentimentConfig(...))`` writes ``<out_dir>/<experiment>.json`` and
``<out_dir>/<experiment>.png`` and returns the metrics (means over the seeds).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from lava_thesis.data.embeddings import embedding_matrix, read_word_vectors
from lava_thesis.data.sentiment import SOURCES, load_sentiment
from lava_thesis.data.splits import stratified_split
from lava_thesis.device import resolve_device
from lava_thesis.lite.sentiment import (
    LiteSNN,
    RecurrentClassifier,
    count_parameters,
    recurrent_energy,
    snn_energy,
)
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize
from lava_thesis.plots import plot_model_bars
from lava_thesis.protocol import Protocol, or_single_seed, split_training
from lava_thesis.results import git_commit, write_results
from lava_thesis.training import fit

MODELS = ("snn", "rnn", "lstm", "gru")
HEADLINE = ("snn_test_accuracy", "lstm_test_accuracy", "gru_test_accuracy", "rnn_test_accuracy",
            "snn_minus_lstm", "snn_params_trunk", "lstm_params_trunk", "snn_energy_pj",
            "lstm_energy_pj")


@dataclass
class LiteSentimentConfig:
    """Settings of one run (stored in the results file)."""

    sources: tuple[str, ...] = SOURCES
    subset: int | None = None  #: a seeded stratified sample of this many sentences (tests)
    test_fraction: float = 0.2
    split_seed: int = 0  #: seed of the train/test split (fixed; not one of the model seeds)
    val_fraction: float = 0.1  #: validation share of the training part when run without protocol
    max_len: int = 40  #: tokens kept per sentence (99% of the sentences are shorter)
    min_count: int = 1
    max_vocab: int | None = None
    embed_dim: int = 100
    #: pretrained word vectors (GloVe text format, ``embed_dim`` numbers per word) that
    #: initialise every model's embedding table; None: trained from scratch
    embeddings: str | None = None
    freeze_embeddings: bool = False  #: keep the pretrained table fixed during training
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
    #: where the models train and run: cpu, cuda, cuda:N or auto (results do not depend on it
    #: beyond float rounding; the energy counts are computed on the CPU's copy of the spikes)
    device: str = "cpu"


class SentenceSplit(NamedTuple):
    """The sentences and their three disjoint index sets (into ``sentences``)."""

    sentences: list[str]
    labels: np.ndarray
    train: np.ndarray  #: the sentences the models (and the vocabulary) learn from
    val: np.ndarray  #: held out of the training part; every choice is made on it
    test: np.ndarray  #: evaluated once per trained model
    validation: dict[str, Any]  #: the results file's ``validation`` field


def split_sentences(groups: np.ndarray, cfg: Any, protocol: Protocol
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """``(train, val, test, validation)`` indices into ``groups`` (``source * 2 + label``).

    The test part is ``stratified_split(groups, cfg.test_fraction, cfg.split_seed)``; the
    validation part is carved off the rest with :func:`~lava_thesis.protocol.split_training`,
    stratified by the same groups. The three are disjoint and cover every sentence.
    """
    groups = np.asarray(groups)
    rest, test = stratified_split(groups, cfg.test_fraction, cfg.split_seed)
    (train, _), (val, _), info = split_training(rest, groups[rest], protocol)
    return train, val, test, info


def load_split(cfg: Any, protocol: Protocol) -> SentenceSplit:
    """Load ``cfg.sources`` (a stratified ``cfg.subset`` of them when set) and split them
    (:func:`split_sentences`)."""
    sentences, labels, source_ids = load_sentiment(cfg.data_dir, cfg.sources)
    groups = source_ids * 2 + labels
    if cfg.subset is not None and cfg.subset < len(labels):
        keep = stratified_split(groups, cfg.subset / len(labels), cfg.split_seed + 1)[1]
        sentences, labels, groups = [sentences[i] for i in keep], labels[keep], groups[keep]
    return SentenceSplit(sentences, labels, *split_sentences(groups, cfg, protocol))


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
    return torch.cat(out).long().cpu().numpy() if out else np.zeros(0, np.int64)


@dataclass
class BestEpoch:
    """``on_epoch`` callback of :func:`lava_thesis.training.fit` that keeps the best epoch.

    After every epoch ``val_accuracy()`` is measured; a copy of the weights is kept whenever it
    is higher than every earlier epoch's (the earliest epoch wins a tie). Without a validation
    set (``val_accuracy=None``) the last epoch is kept. :meth:`restore` loads the kept weights.
    """

    model: torch.nn.Module
    val_accuracy: Callable[[], float] | None
    train_history: list[float] = field(default_factory=list)
    val_history: list[float] = field(default_factory=list)
    best_epoch: int = 0  #: 1-based; 0 before the first epoch
    _state: dict | None = None

    def __call__(self, epoch: int, train_accuracy: float) -> None:
        self.train_history.append(train_accuracy)
        if self.val_accuracy is None:
            self.best_epoch = epoch + 1
            return
        acc = float(self.val_accuracy())
        self.val_history.append(acc)
        if self._state is None or acc > max(self.val_history[:-1]):
            self.best_epoch, self._state = epoch + 1, copy.deepcopy(self.model.state_dict())

    def restore(self) -> int:
        """Load the best epoch's weights into the model; return that epoch (1-based)."""
        if self._state is not None:
            self.model.load_state_dict(self._state)
        return self.best_epoch

    @property
    def best_val_accuracy(self) -> float | None:
        """The validation accuracy of the kept epoch (None without a validation set)."""
        return self.val_history[self.best_epoch - 1] if self.val_history else None


def train(model: torch.nn.Module, ids: torch.Tensor, lengths: torch.Tensor, labels: np.ndarray,
          cfg: LiteSentimentConfig, log=print, name: str = "", *, seed: int | None = None,
          val: tuple[torch.Tensor, torch.Tensor, np.ndarray] | None = None,
          device: torch.device | None = None) -> BestEpoch:
    """Adam + BCE for ``cfg.epochs``, batches shuffled with ``seed`` (default ``cfg.seed``).
    ``device``: where ``model``, ``ids`` and ``lengths`` are (default: the CPU).

    With ``val = (ids, lengths, labels)`` (a non-empty validation set) the model ends with the
    weights of its best validation epoch (:class:`BestEpoch`), else with the last epoch's.
    BCE with logit ``z`` equals the cross-entropy of the two logits ``(0, z)`` (softmax of
    ``(0, z)`` is ``(1 - sigmoid(z), sigmoid(z))``), so the shared loop :func:`fit` is used.
    Returns the :class:`BestEpoch` record (training/validation accuracy per epoch, best epoch).
    """
    def forward(idx: np.ndarray) -> tuple[torch.Tensor, float]:
        z = model(*_batch(ids, lengths, idx))
        return torch.stack([torch.zeros_like(z), z], 1), 0.0

    def val_accuracy() -> float:
        return float((predict(model, val[0], val[1]) == val[2]).mean())

    best = BestEpoch(model, val_accuracy if val is not None and len(val[2]) else None)

    def on_epoch(epoch: int, acc: float) -> None:
        best(epoch, acc)
        shown = f", validation {best.val_history[-1]:.3f}" if best.val_history else ""
        log(f"  {name} epoch {epoch + 1}: train accuracy {acc:.3f}{shown}")

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed if seed is None else seed)
    fit(model, forward, labels, opt, epochs=cfg.epochs, batch_size=cfg.batch_size,
        generator=gen, desc=name, on_epoch=on_epoch, device=device)
    best.restore()
    return best


def paired_differences(metrics: dict[str, float], pairs: tuple[tuple[str, str], ...],
                       suffixes: tuple[str, ...], score: Callable[[str, str], str]
                       ) -> dict[str, float]:
    """``{a}_minus_{b}{suffix}: metrics[score(a, s)] - metrics[score(b, s)]`` for every pair
    and suffix whose two scores exist (one seed's values: the paired difference per seed)."""
    out = {}
    for a, b in pairs:
        for sfx in suffixes:
            ka, kb = score(a, sfx), score(b, sfx)
            if ka in metrics and kb in metrics:
                out[f"{a}_minus_{b}{sfx}"] = metrics[ka] - metrics[kb]
    return out


def run(config: LiteSentimentConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False,
        protocol: Protocol | None = None) -> dict[str, float]:
    """Train and evaluate ``config.models``, one model of each per seed of ``protocol``
    (default: one seed, ``config.seed``, validation share ``config.val_fraction``); write the
    results JSON and the bar plot (means, min-max over the seeds). ``command`` is recorded in
    the results (default: this process's command line). Returns the metrics (seed means)."""
    cfg = config or LiteSentimentConfig()
    protocol = or_single_seed(protocol, cfg.seed, cfg.val_fraction)
    cfg = replace(cfg, seed=protocol.seeds[0], val_fraction=protocol.val_fraction)
    commit = git_commit()  # the code the run started from
    dev = resolve_device(cfg.device)
    data = load_split(cfg, protocol)
    tr, va, te = data.train, data.val, data.test
    vocab = Vocab.build((tokenize(data.sentences[i]) for i in tr), min_count=cfg.min_count,
                        max_size=cfg.max_vocab)
    ids_np, len_np = encode_sentences(data.sentences, vocab, cfg.max_len)
    ids, lengths, labels = (torch.from_numpy(ids_np).to(dev), torch.from_numpy(len_np).to(dev),
                            data.labels)  # on the device once
    log(f"LITE sentiment: {len(tr)} train / {len(va)} validation / {len(te)} test sentences, "
        f"vocabulary {len(vocab)}")
    fixed: dict[str, float] = {
        "train_samples": len(tr), "val_samples": len(va), "test_samples": len(te),
        "vocab_size": len(vocab),
        "unk_rate_test": float((ids_np[te] == 1).sum() / len_np[te].sum())}

    table = None
    if cfg.embeddings is not None:
        vectors = read_word_vectors(cfg.embeddings, vocab.itos, dim=cfg.embed_dim)
        table, fixed["embedding_coverage"] = embedding_matrix(vocab.itos, vectors,
                                                              cfg.embed_dim, seed=cfg.split_seed)
        log(f"  pretrained vectors for {fixed['embedding_coverage']:.1%} of the vocabulary "
            f"from {cfg.embeddings}" + (" (frozen)" if cfg.freeze_embeddings else ""))

    def one_seed(seed: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for kind in cfg.models:
            torch.manual_seed(seed)
            model = build_model(kind, len(vocab), cfg)
            if table is not None:  # the same pretrained table for every model
                with torch.no_grad():
                    model.embedding.weight.copy_(torch.from_numpy(table))
                model.embedding.weight.requires_grad_(not cfg.freeze_embeddings)
            model.to(dev)
            t0 = time.perf_counter()
            best = train(model, ids[tr], lengths[tr], labels[tr], cfg, log, kind, seed=seed,
                         val=(ids[va], lengths[va], labels[va]), device=dev)
            metrics[f"{kind}_train_seconds"] = round(time.perf_counter() - t0, 1)
            metrics[f"{kind}_best_epoch"] = best.best_epoch
            if best.best_val_accuracy is not None:
                metrics[f"{kind}_val_accuracy"] = best.best_val_accuracy
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
            log(f"  {kind} (seed {seed}): test accuracy {metrics[f'{kind}_test_accuracy']:.4f} "
                f"(epoch {best.best_epoch}), {metrics[f'{kind}_params_trunk']} trunk "
                f"parameters, {metrics[f'{kind}_energy_pj'] / 1e6:.3g} µJ per inference")
        pairs = tuple(("snn", b) for b in ("lstm", "gru", "rnn"))
        metrics.update(paired_differences(metrics, pairs, ("",),
                                          lambda m, _: f"{m}_test_accuracy"))
        return metrics

    seed_metrics, seed_extra = protocol.run(one_seed, log)
    metrics = {**fixed, **seed_metrics}
    out_dir = Path(cfg.out_dir)
    plot_model_bars(metrics, cfg.models, [m.upper() for m in cfg.models],
                    out_dir / f"{cfg.experiment}.png", params_key="params_trunk",
                    per_seed=seed_extra["per_seed"])
    write_results(out_dir, cfg.experiment, dataset="UCI sentiment (" + "+".join(cfg.sources) + ")",
                  metrics=metrics, method="lite",
                  config={**asdict(cfg), "protocol": protocol.as_dict()},
                  command=command, commit=commit, validation=data.validation,
                  headline=[k for k in HEADLINE if k in metrics],
                  extra={**seed_extra,
                         "split": f"test: stratified by (source, label), fraction "
                                  f"{cfg.test_fraction}, seed {cfg.split_seed}; validation: "
                                  f"{protocol.val_fraction} of the training part, stratified "
                                  f"the same way, seed {protocol.val_seed}; vocabulary from "
                                  f"the remaining training sentences",
                         "selection": "each model keeps the weights of its epoch with the best "
                                      "validation accuracy (earliest on ties); the test set is "
                                      "evaluated once per model",
                         "paired": "snn_minus_<kind>: SNN minus <kind> test accuracy per seed "
                                   "(same seed, data and split), then the mean over seeds",
                         "energy": "45 nm: MAC 4.6 pJ, AC 0.9 pJ; SNN fc1 (analog embedding "
                                   "input) MACs every step, fc2/fc3 SynOps; RNNs MACs per token"},
                  paper={"snn_params_trunk": "~157k (authors' code) vs ~367k LSTM(100->256)",
                         "snn_test_accuracy": "fewer parameters and lower energy than "
                                              "LSTM/GRU (accuracy unverified)"},
                  allow_dirty=allow_dirty)
    return metrics
