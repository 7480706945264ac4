"""LITE-SNN sequence-to-sequence experiment (method 5): Multi30k German -> English.

Models (:mod:`lava_thesis.lite.seq2seq_models`): the convolutional encoder-decoder with
attention and LIF neurons (``snn``), the same network with ReLU (``relu_cnn``) and an LSTM
encoder-decoder with the same dot attention (``lstm``). Data: Multi30k task 1, train (29,000
pairs) for training, test = ``test_2016_flickr`` (1,000 pairs) for BLEU; the validation split is
not used (no model selection, no early stopping). Vocabularies from the training split
(``min_count``), sentences lowercased and tokenized by :func:`~lava_thesis.lite.text.tokenize`,
truncated to ``max_len`` tokens.

Equal budget: every model trains with Adam (cross-entropy, padding ignored, gradient norm
clipped) on shuffled mini-batches until it has used ``budget_cpu_s`` seconds of *process* CPU
time (``time.process_time``, one torch thread), so a busy shared machine does not favour any
model; updates, epochs seen, CPU and wall seconds are recorded. Then the test sources are
greedy-decoded (:func:`~lava_thesis.lite.seq2seq_decode.greedy_decode`, at most
``decode_max_len`` tokens) and scored with sacrebleu corpus BLEU (13a, lowercase) against the raw
references; ``<m>_test_accuracy`` is the teacher-forced next-token accuracy on the test pairs.
Energy per translated sentence: mean over the test pairs of one encoder pass over the source and
one decoder pass over ``<bos>`` + reference (each position once, as an incremental decoder),
:func:`~lava_thesis.lite.seq2seq_models.conv_energy` /
:func:`~lava_thesis.lite.seq2seq_models.lstm_energy`.

``run(LiteSeq2SeqConfig(...))`` writes ``<out_dir>/<experiment>.json`` and
``<out_dir>/<experiment>.png`` and returns the metrics.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis.data.multi30k import load_multi30k
from lava_thesis.lite.seq2seq_decode import bleu, translate
from lava_thesis.lite.seq2seq_models import (
    ConvSeq2Seq,
    LstmSeq2Seq,
    conv_energy,
    lstm_energy,
    seq2seq_parameters,
)
from lava_thesis.lite.text import BOS, EOS, PAD_ID, Vocab, encode_sentences, pad_sequences, tokenize
from lava_thesis.plots import plot_model_bars
from lava_thesis.results import write_results

MODELS = ("snn", "relu_cnn", "lstm")
NAMES = {"snn": "conv SNN (LIF)", "relu_cnn": "CNN (ReLU)", "lstm": "LSTM"}
HEADLINE = ("snn_bleu", "relu_cnn_bleu", "lstm_bleu", "snn_params", "relu_cnn_params",
            "lstm_params", "snn_energy_pj", "relu_cnn_energy_pj", "lstm_energy_pj")


@dataclass
class LiteSeq2SeqConfig:
    """Settings of one run (stored in the results file)."""

    src: str = "de"
    tgt: str = "en"
    subset: int | None = None  #: a seeded sample of this many training pairs (tests)
    test_subset: int | None = None  #: the first this many test pairs (tests)
    min_count: int = 2
    max_len: int = 40  #: tokens kept per sentence (longer training/test sentences truncated)
    decode_max_len: int = 50
    embed_dim: int = 128
    channels: int = 256
    enc_layers: int = 2
    dec_layers: int = 2
    kernel: int = 3
    steps: int = 4  #: LIF steps per token position
    threshold: float = 0.5  #: initial LIF threshold (trainable)
    leak: float = 0.95  #: initial LIF leak (trainable)
    lstm_hidden: int = 224  #: ~ the conv trunk's parameter count
    models: tuple[str, ...] = MODELS
    budget_cpu_s: float = 600.0  #: process CPU seconds of training per model
    batch_size: int = 64
    lr: float = 1e-3
    clip: float = 1.0
    seed: int = 0
    n_examples: int = 5
    data_dir: str | None = None
    out_dir: str = "results"
    experiment: str = "lite_seq2seq"


def build_model(kind: str, src_vocab: int, tgt_vocab: int, cfg: LiteSeq2SeqConfig
                ) -> torch.nn.Module:
    """``"snn"``/``"relu_cnn"`` -> :class:`ConvSeq2Seq`; ``"lstm"`` -> :class:`LstmSeq2Seq`."""
    if kind == "lstm":
        return LstmSeq2Seq(src_vocab, tgt_vocab, embed_dim=cfg.embed_dim, hidden=cfg.lstm_hidden)
    if kind not in ("snn", "relu_cnn"):
        raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    return ConvSeq2Seq(src_vocab, tgt_vocab, embed_dim=cfg.embed_dim, channels=cfg.channels,
                       enc_layers=cfg.enc_layers, dec_layers=cfg.dec_layers, kernel=cfg.kernel,
                       activation="lif" if kind == "snn" else "relu", steps=cfg.steps,
                       max_positions=max(cfg.max_len, cfg.decode_max_len) + 2,
                       threshold=cfg.threshold, leak=cfg.leak)


def encode_targets(sentences: Sequence[str], vocab: Vocab, max_len: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """``<bos> tokens[:max_len] <eos>``, padded: ``(N, max_len + 2)`` ids and ``(N,)`` lengths.

    Raises ValueError naming the index of a sentence without tokens.
    """
    bos, eos, seqs = vocab.stoi[BOS], vocab.stoi[EOS], []
    for i, sentence in enumerate(sentences):
        tokens = tokenize(sentence)
        if not tokens:
            raise ValueError(f"target sentence {i} has no tokens: {sentence[:40]!r}")
        seqs.append([bos, *vocab.encode(tokens[:max_len]), eos])
    ids, lengths = pad_sequences(seqs, max_len + 2)
    return torch.from_numpy(ids), torch.from_numpy(lengths)


def _batch(data: tuple[torch.Tensor, ...], idx: np.ndarray) -> tuple[torch.Tensor, ...]:
    """Source, lengths, decoder input and output of ``idx``, trimmed to the longest sentences."""
    src, src_len, tgt, tgt_len = (t[idx] for t in data)
    n_t = int(tgt_len.max())
    return src[:, :int(src_len.max())], src_len, tgt[:, :n_t - 1], tgt[:, 1:n_t]


def train_budget(model: torch.nn.Module, data: tuple[torch.Tensor, ...],
                 cfg: LiteSeq2SeqConfig, log=print, name: str = "") -> dict[str, float]:
    """Train until ``cfg.budget_cpu_s`` process CPU seconds are used (checked before each
    update); returns updates, epochs, CPU and wall seconds and the mean loss of the last 100."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    n, cpu0, wall0 = len(data[0]), time.process_time(), time.perf_counter()
    updates, seen, losses = 0, 0, []
    model.train()
    while time.process_time() - cpu0 < cfg.budget_cpu_s:
        order = torch.randperm(n, generator=gen).numpy()
        for start in range(0, n, cfg.batch_size):
            if time.process_time() - cpu0 >= cfg.budget_cpu_s:
                break
            idx = order[start:start + cfg.batch_size]
            src, src_len, tgt_in, tgt_out = _batch(data, idx)
            logits = model(src, src_len, tgt_in)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(),
                                                     ignore_index=PAD_ID)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            updates, seen = updates + 1, seen + len(idx)
            losses.append(loss.item())
            if updates % 200 == 0:
                log(f"  {name} update {updates} (epoch {seen / n:.2f}): loss "
                    f"{np.mean(losses[-200:]):.3f}, {time.process_time() - cpu0:.0f} CPU s")
    return {"updates": updates, "epochs": seen / n, "train_cpu_s": time.process_time() - cpu0,
            "train_wall_s": time.perf_counter() - wall0,
            "train_loss_last": float(np.mean(losses[-100:])) if losses else float("nan")}


@torch.no_grad()
def token_accuracy(model: torch.nn.Module, data: tuple[torch.Tensor, ...],
                   batch_size: int = 200) -> float:
    """Teacher-forced next-token accuracy over the non-padding target positions (``<eos>`` in)."""
    model.eval()
    correct = total = 0
    for s in range(0, len(data[0]), batch_size):
        src, src_len, tgt_in, tgt_out = _batch(data, np.arange(s, min(s + batch_size,
                                                                      len(data[0]))))
        valid = tgt_out != PAD_ID
        correct += int(((model(src, src_len, tgt_in).argmax(-1) == tgt_out) & valid).sum())
        total += int(valid.sum())
    return correct / total


def sentence_energy(model: torch.nn.Module, data: tuple[torch.Tensor, ...]) -> dict[str, float]:
    """Mean compute per translated sentence over the pairs of ``data`` (module docstring)."""
    src, src_len, tgt, tgt_len = data
    rows = []
    for i in range(len(src)):
        ns, nt = int(src_len[i]), int(tgt_len[i]) - 1  # decoder positions: <bos> + reference
        rows.append(lstm_energy(model, ns, nt) if isinstance(model, LstmSeq2Seq)
                    else conv_energy(model, src[i, :ns], tgt[i, :nt]))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def run(config: LiteSeq2SeqConfig | None = None, *, log=print,
        command: str | None = None, allow_dirty: bool = False) -> dict[str, float]:
    """Train and evaluate ``config.models`` at an equal CPU budget; write the JSON and plot."""
    cfg = config or LiteSeq2SeqConfig()
    torch.set_num_threads(1)
    train_pairs = load_multi30k("train", cfg.src, cfg.tgt, cfg.data_dir)
    test_pairs = load_multi30k("test", cfg.src, cfg.tgt, cfg.data_dir)
    if cfg.subset is not None and cfg.subset < len(train_pairs):
        keep = np.sort(np.random.default_rng(cfg.seed).choice(len(train_pairs), cfg.subset,
                                                              replace=False))
        train_pairs = [train_pairs[i] for i in keep]
    test_pairs = test_pairs[:cfg.test_subset]
    src_vocab = Vocab.build((tokenize(s) for s, _ in train_pairs), min_count=cfg.min_count)
    tgt_vocab = Vocab.build((tokenize(t) for _, t in train_pairs), min_count=cfg.min_count,
                            specials=(BOS, EOS))

    def tensors(pairs: list[tuple[str, str]]) -> tuple[torch.Tensor, ...]:
        ids, lengths = encode_sentences([s for s, _ in pairs], src_vocab, cfg.max_len)
        return (torch.from_numpy(ids), torch.from_numpy(lengths),
                *encode_targets([t for _, t in pairs], tgt_vocab, cfg.max_len))

    train_data, test_data = tensors(train_pairs), tensors(test_pairs)
    sources, references = [s for s, _ in test_pairs], [t for _, t in test_pairs]
    log(f"LITE seq2seq {cfg.src}->{cfg.tgt}: {len(train_pairs)} train / {len(test_pairs)} test "
        f"pairs, vocabularies {len(src_vocab)} / {len(tgt_vocab)}, budget {cfg.budget_cpu_s:g} "
        f"CPU s per model")
    metrics: dict[str, float] = {
        "train_pairs": len(train_pairs), "test_pairs": len(test_pairs),
        "src_vocab_size": len(src_vocab), "tgt_vocab_size": len(tgt_vocab),
        "unk_rate_test_src": float((test_data[0] == 1).sum() / test_data[1].sum()),
        "budget_cpu_s": cfg.budget_cpu_s}
    examples: list[dict[str, str]] = [{"src": s, "ref": r} for s, r in
                                      zip(sources[:cfg.n_examples], references, strict=False)]
    signature = ""
    for kind in cfg.models:
        torch.manual_seed(cfg.seed)
        model = build_model(kind, len(src_vocab), len(tgt_vocab), cfg)
        stats = train_budget(model, train_data, cfg, log, kind)
        metrics.update({f"{kind}_{k}": v for k, v in stats.items()})
        t0 = time.process_time()
        hyps = translate(model, sources, src_vocab, tgt_vocab, max_src_len=cfg.max_len,
                         max_len=cfg.decode_max_len)
        metrics[f"{kind}_decode_cpu_s"] = time.process_time() - t0
        score = bleu(references, hyps)
        signature = str(score["signature"])
        metrics[f"{kind}_bleu"] = float(score["bleu"])
        metrics[f"{kind}_test_accuracy"] = token_accuracy(model, test_data)
        metrics[f"{kind}_mean_hyp_tokens"] = float(np.mean([len(tokenize(h.replace("<unk>", "unk")))
                                                             for h in hyps]))
        metrics.update({f"{kind}_{k}": v for k, v in seq2seq_parameters(model).items()})
        metrics.update({f"{kind}_{k}": v for k, v in sentence_energy(model, test_data).items()})
        if kind == "snn":
            for i, lif in enumerate(model.lifs):
                metrics[f"snn_threshold_{i + 1}"] = lif.threshold.item()
                metrics[f"snn_leak_{i + 1}"] = lif.leak.clamp(0, 1).item()
        for ex, h in zip(examples, hyps, strict=False):
            ex[kind] = h
        log(f"  {kind}: BLEU {metrics[f'{kind}_bleu']:.2f}, {stats['updates']} updates "
            f"({stats['epochs']:.2f} epochs), {metrics[f'{kind}_params']} parameters, "
            f"{metrics[f'{kind}_energy_pj'] / 1e6:.3g} µJ per sentence")
    out_dir = Path(cfg.out_dir)
    plot_model_bars(metrics, cfg.models, [NAMES[m] for m in cfg.models],
                    out_dir / f"{cfg.experiment}.png", params_key="params_trunk",
                    score=("bleu", "test BLEU (greedy)"),
                    title=f"Multi30k {cfg.src}-{cfg.tgt}, {cfg.budget_cpu_s:g} CPU s per model")
    write_results(
        out_dir, cfg.experiment, method="lite", config=asdict(cfg), command=command,
        dataset=f"Multi30k task 1 {cfg.src}->{cfg.tgt}: train ({len(train_pairs)} pairs), "
                f"test_2016_flickr ({len(test_pairs)} pairs)",
        metrics=metrics, headline=[k for k in HEADLINE if k in metrics],
        extra={"bleu": f"sacrebleu corpus BLEU on the test_2016_flickr references, greedy "
                       f"decoding, detokenized lowercased hypotheses; signature {signature}",
               "budget": f"{cfg.budget_cpu_s:g} s of process CPU time (time.process_time, one "
                         f"torch thread) of training per model; decoding not included",
               "test_accuracy": "teacher-forced next-token accuracy on the test pairs",
               "energy": "45 nm: MAC 4.6 pJ, AC 0.9 pJ, per sentence (encoder over the source, "
                         "decoder once per <bos>+reference position). ReLU CNN and LSTM: all "
                         "MACs. SNN: first encoder/decoder conv (embedding input), attention "
                         "products and W_c (analog context) as MACs; convs, W_q and W_out fed by "
                         "spikes as SynOps (spikes x fan-out). Not counted: neuron updates, "
                         "softmax, embedding lookups, memory",
               "examples": examples},
        paper={"snn_bleu": "conv+attention SNN better than the same CNN with ReLU; fewer "
                           "parameters and lower energy than LSTM (values unverified)"},
        allow_dirty=allow_dirty)
    return metrics
