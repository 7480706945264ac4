"""LITE-SNN sequence-to-sequence experiment (method 5): Multi30k German -> English.

Models (:mod:`lava_thesis.lite.seq2seq_models`): the convolutional encoder-decoder with
attention and LIF neurons whose membrane carries over from one token position to the next
(``snn_carry``, the thesis's recurrence), the same SNN with the membrane reset at every position
(``snn``, the ablation), the same network with ReLU (``relu_cnn``) and an LSTM encoder-decoder
with the same dot attention (``lstm``). Data: Multi30k task 1, train (29,000
pairs) for training, the official validation split ``val`` (1,014 pairs, held out from the
training data by the dataset's authors) for model selection, test = ``test_2016_flickr``
(1,000 pairs) for BLEU. Vocabularies from the training split only (``min_count``), sentences
lowercased and tokenized by :func:`~lava_thesis.lite.text.tokenize`, truncated to ``max_len``
tokens.

Equal training: per seed of the :class:`~lava_thesis.protocol.Protocol` (all models share the
seed: a paired comparison), every model trains with Adam (cross-entropy, padding ignored,
gradient norm clipped) on shuffled mini-batches for the same ``epochs`` epochs. After each epoch
the validation sources are greedy-decoded and scored (validation BLEU; the teacher-forced
validation loss is recorded too); the weights of the epoch with the best validation BLEU (ties:
the earlier epoch) are kept. Only then are the test sources decoded, greedily
(:func:`~lava_thesis.lite.seq2seq_decode.greedy_decode`, at most ``decode_max_len`` tokens) or,
with ``beam > 1``, by beam search of that width
(:func:`~lava_thesis.lite.seq2seq_decode.beam_decode`, length penalty 1; validation decoding
stays greedy), and scored with sacrebleu corpus BLEU (13a, lowercase) against the raw references;
``<m>_test_accuracy`` is the teacher-forced next-token accuracy on the test pairs and
``<snn>_minus_<m>_bleu`` the per-seed BLEU difference of each SNN from each other model
(``snn_carry_minus_snn_bleu``: what carrying the membrane adds). ``budget_cpu_s`` (an
explicit option, off by default) instead trains each model until it has used that many seconds
of *process* CPU time (``time.process_time``, one torch thread), validating at each epoch's
end and at the budget's; the results file's config then says ``"budget": true``.
Energy per translated sentence: mean over the test pairs of one encoder pass over the source and
one decoder pass over ``<bos>`` + reference (each position once, as an incremental decoder),
:func:`~lava_thesis.lite.seq2seq_models.conv_energy` /
:func:`~lava_thesis.lite.seq2seq_models.lstm_energy`.

``run(LiteSeq2SeqConfig(...))`` writes ``<out_dir>/<experiment>.json`` and
``<out_dir>/<experiment>.png`` and returns the metrics (means over the seeds).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lava_thesis.data.multi30k import load_multi30k
from lava_thesis.device import resolve_device
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
from lava_thesis.protocol import Protocol, or_single_seed
from lava_thesis.results import write_results

MODELS = ("snn_carry", "snn", "relu_cnn", "lstm")
SNNS = ("snn_carry", "snn")
NAMES = {"snn_carry": "conv SNN (LIF, membrane carried)", "snn": "conv SNN (LIF, per position)",
         "relu_cnn": "CNN (ReLU)", "lstm": "LSTM"}
HEADLINE = ("snn_carry_bleu", "snn_bleu", "relu_cnn_bleu", "lstm_bleu",
            "snn_carry_minus_relu_cnn_bleu", "snn_carry_minus_lstm_bleu",
            "snn_carry_minus_snn_bleu", "snn_minus_relu_cnn_bleu", "snn_minus_lstm_bleu",
            "snn_carry_params", "snn_params", "relu_cnn_params", "lstm_params",
            "snn_carry_energy_pj", "snn_energy_pj", "relu_cnn_energy_pj", "lstm_energy_pj")


@dataclass
class LiteSeq2SeqConfig:
    """Settings of one run (stored in the results file)."""

    src: str = "de"
    tgt: str = "en"
    subset: int | None = None  #: a seeded sample of this many training pairs (tests)
    test_subset: int | None = None  #: the first this many test pairs (tests)
    val_subset: int | None = None  #: the first this many validation pairs (tests)
    min_count: int = 2
    max_len: int = 40  #: tokens kept per sentence (longer training/test sentences truncated)
    decode_max_len: int = 50
    #: test decoding: 1 greedy, > 1 beam search of this width (length penalty 1). Validation
    #: decoding (model selection after every epoch) stays greedy, for speed
    beam: int = 1
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
    epochs: int = 2  #: training epochs per model, the same for every model
    budget_cpu_s: float | None = None  #: instead of epochs: process CPU seconds per model
    batch_size: int = 64
    lr: float = 1e-3
    clip: float = 1.0
    seed: int = 0
    n_examples: int = 5
    data_dir: str | None = None
    out_dir: str = "results"
    experiment: str = "lite_seq2seq"
    #: where the models train and translate: cpu, cuda, cuda:N or auto (the energy counts run
    #: on a CPU copy); ``budget_cpu_s`` counts this process's CPU time, so use it on the CPU
    device: str = "cpu"


def build_model(kind: str, src_vocab: int, tgt_vocab: int, cfg: LiteSeq2SeqConfig
                ) -> torch.nn.Module:
    """``"snn_carry"``/``"snn"``/``"relu_cnn"`` -> :class:`ConvSeq2Seq` (membrane carried or
    reset per position, LIF; ReLU); ``"lstm"`` -> :class:`LstmSeq2Seq`."""
    if kind == "lstm":
        return LstmSeq2Seq(src_vocab, tgt_vocab, embed_dim=cfg.embed_dim, hidden=cfg.lstm_hidden)
    if kind not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    return ConvSeq2Seq(src_vocab, tgt_vocab, embed_dim=cfg.embed_dim, channels=cfg.channels,
                       enc_layers=cfg.enc_layers, dec_layers=cfg.dec_layers, kernel=cfg.kernel,
                       activation="lif" if kind in SNNS else "relu", steps=cfg.steps,
                       max_positions=max(cfg.max_len, cfg.decode_max_len) + 2,
                       threshold=cfg.threshold, leak=cfg.leak,
                       memory="carry" if kind == "snn_carry" else "position")


def paired_differences(models: Sequence[str]) -> list[tuple[str, str]]:
    """``(snn, other)`` pairs whose per-seed BLEU difference is reported: each SNN against
    every model after it in :data:`SNNS` + baselines order (``snn_carry`` - ``snn`` once).

    >>> for snn, other in paired_differences(MODELS)[:4]:
    ...     print(snn, "-", other)
    snn_carry - snn
    snn_carry - relu_cnn
    snn_carry - lstm
    snn - relu_cnn
    """
    order = [m for m in MODELS if m in models]
    return [(a, b) for i, a in enumerate(order) if a in SNNS for b in order[i + 1:]]


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


def train_epochs(model: torch.nn.Module, data: tuple[torch.Tensor, ...],
                 cfg: LiteSeq2SeqConfig, validate: Callable[[], dict[str, float]], *,
                 seed: int, log=print, name: str = ""
                 ) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Train ``model`` for ``cfg.epochs`` epochs (or, with ``cfg.budget_cpu_s``, until that
    many process CPU seconds are used, checked before each update) and keep the best epoch.

    After each epoch (and at the budget's end) ``validate()`` returns ``{"bleu", "loss"}`` on
    the validation pairs; the weights with the highest validation BLEU (ties: the earlier
    epoch) are restored at the end. Returns the training statistics (updates, epochs seen,
    CPU and wall seconds, mean loss of the last 100 updates, best epoch and its validation
    BLEU and loss) and the validation scores after each epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(seed)
    budget = cfg.budget_cpu_s
    n, cpu0, wall0 = len(data[0]), time.process_time(), time.perf_counter()
    updates, seen, losses, curve = 0, 0, [], []
    best: dict = {"bleu": -1.0}

    def out_of_budget() -> bool:
        return budget is not None and time.process_time() - cpu0 >= budget

    epoch = 0
    while (epoch < cfg.epochs if budget is None else not out_of_budget()):
        model.train()
        order, before = torch.randperm(n, generator=gen).numpy(), updates
        for start in range(0, n, cfg.batch_size):
            if out_of_budget():
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
        if updates == before:  # the budget ran out before this epoch began
            break
        epoch += 1
        scores = validate()
        curve.append({"epoch": seen / n, **scores})
        log(f"  {name} epoch {seen / n:.2f}: validation BLEU {scores['bleu']:.2f}, loss "
            f"{scores['loss']:.3f}")
        if scores["bleu"] > best["bleu"]:
            best = {**scores, "epoch": seen / n, "state": copy.deepcopy(model.state_dict())}
    if "state" in best:
        model.load_state_dict(best["state"])
    stats = {"updates": updates, "epochs": seen / n, "train_cpu_s": time.process_time() - cpu0,
             "train_wall_s": time.perf_counter() - wall0,
             "train_loss_last": float(np.mean(losses[-100:])) if losses else float("nan"),
             "best_epoch": best.get("epoch", 0.0), "val_bleu": best.get("bleu", 0.0),
             "val_loss": best.get("loss", float("nan"))}
    return stats, curve


@torch.no_grad()
def teacher_forced(model: torch.nn.Module, data: tuple[torch.Tensor, ...],
                   batch_size: int = 200) -> tuple[float, float]:
    """Teacher-forced mean cross-entropy and next-token accuracy over the non-padding target
    positions (``<eos>`` included): ``(loss, accuracy)``."""
    model.eval()
    correct = total = 0
    loss = 0.0
    for s in range(0, len(data[0]), batch_size):
        src, src_len, tgt_in, tgt_out = _batch(data, np.arange(s, min(s + batch_size,
                                                                      len(data[0]))))
        logits = model(src, src_len, tgt_in)
        valid = tgt_out != PAD_ID
        loss += float(torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), tgt_out.flatten(), ignore_index=PAD_ID, reduction="sum"))
        correct += int(((logits.argmax(-1) == tgt_out) & valid).sum())
        total += int(valid.sum())
    return loss / total, correct / total


def token_accuracy(model: torch.nn.Module, data: tuple[torch.Tensor, ...],
                   batch_size: int = 200) -> float:
    """Teacher-forced next-token accuracy over the non-padding target positions (``<eos>`` in)."""
    return teacher_forced(model, data, batch_size)[1]


def sentence_energy(model: torch.nn.Module, data: tuple[torch.Tensor, ...]) -> dict[str, float]:
    """Mean compute per translated sentence over the pairs of ``data`` (module docstring),
    counted on a CPU copy of ``model`` when it is elsewhere."""
    if next(model.parameters()).device.type != "cpu":
        model = copy.deepcopy(model).cpu()
    src, src_len, tgt, tgt_len = (t.cpu() for t in data)
    rows = []
    for i in range(len(src)):
        ns, nt = int(src_len[i]), int(tgt_len[i]) - 1  # decoder positions: <bos> + reference
        rows.append(lstm_energy(model, ns, nt) if isinstance(model, LstmSeq2Seq)
                    else conv_energy(model, src[i, :ns], tgt[i, :nt]))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}



def _pairs(cfg: LiteSeq2SeqConfig) -> dict[str, list[tuple[str, str]]]:
    """The train (``subset``: a sample seeded with ``cfg.seed``), val and test pairs."""
    pairs = {split: load_multi30k(split, cfg.src, cfg.tgt, cfg.data_dir)
             for split in ("train", "val", "test")}
    if cfg.subset is not None and cfg.subset < len(pairs["train"]):
        keep = np.sort(np.random.default_rng(cfg.seed).choice(len(pairs["train"]), cfg.subset,
                                                              replace=False))
        pairs["train"] = [pairs["train"][i] for i in keep]
    pairs["val"], pairs["test"] = pairs["val"][:cfg.val_subset], pairs["test"][:cfg.test_subset]
    if not pairs["val"] or not pairs["test"]:
        raise ValueError(f"val_subset and test_subset must be >= 1, got {cfg.val_subset} and "
                         f"{cfg.test_subset}")
    return pairs


def official_validation(n_train: int, n_val: int, protocol: Protocol) -> dict:
    """The results file's ``validation`` field for Multi30k's own held-out split:
    ``fraction = n_val / (n_train + n_val)`` (not :attr:`Protocol.val_fraction`)."""
    return {"fraction": n_val / (n_train + n_val), "seed": protocol.val_seed, "train": n_train,
            "val": n_val, "split": "Multi30k's official validation split (val), held out from "
                                   "the training data by the dataset's authors; not carved by "
                                   "the protocol (its val_fraction and seed are unused)"}


@dataclass
class Prepared:
    """The vocabularies (from the training pairs), every split as tensors on the device
    (``source ids, source lengths, target ids, target lengths``) and as text
    ``(sources, references)``, and the split sizes for the results file."""

    src_vocab: Vocab
    tgt_vocab: Vocab
    data: dict[str, tuple[torch.Tensor, ...]]
    text: dict[str, tuple[list[str], list[str]]]
    shared: dict[str, float]


def prepare(cfg: LiteSeq2SeqConfig, dev: torch.device) -> Prepared:
    """Read the splits (:func:`_pairs`), build the vocabularies from the training pairs and
    encode every split once, on ``dev``."""
    pairs = _pairs(cfg)
    src_vocab = Vocab.build((tokenize(s) for s, _ in pairs["train"]), min_count=cfg.min_count)
    tgt_vocab = Vocab.build((tokenize(t) for _, t in pairs["train"]), min_count=cfg.min_count,
                            specials=(BOS, EOS))

    def tensors(split: str) -> tuple[torch.Tensor, ...]:
        ids, lengths = encode_sentences([s for s, _ in pairs[split]], src_vocab, cfg.max_len)
        return tuple(t.to(dev) for t in (  # on the device once
            torch.from_numpy(ids), torch.from_numpy(lengths),
            *encode_targets([t for _, t in pairs[split]], tgt_vocab, cfg.max_len)))

    data = {split: tensors(split) for split in pairs}
    text = {split: ([s for s, _ in p], [t for _, t in p]) for split, p in pairs.items()}
    shared: dict[str, float] = {
        "train_pairs": len(pairs["train"]), "val_pairs": len(pairs["val"]),
        "test_pairs": len(pairs["test"]),
        "src_vocab_size": len(src_vocab), "tgt_vocab_size": len(tgt_vocab),
        "unk_rate_test_src": float((data["test"][0] == 1).sum() / data["test"][1].sum())}
    return Prepared(src_vocab, tgt_vocab, data, text, shared)


def score(model: torch.nn.Module, prep: Prepared, cfg: LiteSeq2SeqConfig, split: str
          ) -> tuple[dict[str, float], list[str], str]:
    """Decode ``split``'s sources (the test split with ``cfg.beam``, any other greedily) and
    score them: ``({"bleu", "loss", "accuracy"}, hypotheses, sacrebleu signature)``, loss and
    accuracy teacher-forced."""
    sources, references = prep.text[split]
    hyps = translate(model, sources, prep.src_vocab, prep.tgt_vocab, max_src_len=cfg.max_len,
                     max_len=cfg.decode_max_len, beam=cfg.beam if split == "test" else 1)
    result = bleu(references, hyps)
    loss, acc = teacher_forced(model, prep.data[split])
    return ({"bleu": float(result["bleu"]), "loss": loss, "accuracy": acc}, hyps,
            str(result["signature"]))


def run(config: LiteSeq2SeqConfig | None = None, *, log=print, command: str | None = None,
        allow_dirty: bool = False, protocol: Protocol | None = None) -> dict[str, float]:
    """Train ``config.models`` for equal epochs once per seed of ``protocol`` (default: the
    config's seed), keep each model's best epoch on the validation split, evaluate it once on
    the test pairs; write the JSON and plot, return the metrics (means over the seeds)."""
    cfg = config or LiteSeq2SeqConfig()
    if cfg.beam < 1:
        raise ValueError(f"beam must be >= 1 (1: greedy decoding), got {cfg.beam}")
    protocol = or_single_seed(protocol, cfg.seed)
    dev = resolve_device(cfg.device)
    torch.set_num_threads(1)
    prep = prepare(cfg, dev)
    src_vocab, tgt_vocab, data, text = prep.src_vocab, prep.tgt_vocab, prep.data, prep.text
    length = (f"{cfg.budget_cpu_s:g} CPU s" if cfg.budget_cpu_s is not None
              else f"{cfg.epochs} epochs")
    log(f"LITE seq2seq {cfg.src}->{cfg.tgt}: {len(text['train'][0])} train / "
        f"{len(text['val'][0])} validation / {len(text['test'][0])} test pairs, vocabularies "
        f"{len(src_vocab)} / {len(tgt_vocab)}, {length} per model, seeds {list(protocol.seeds)}")
    shared = dict(prep.shared)
    if cfg.budget_cpu_s is not None:
        shared["budget_cpu_s"] = cfg.budget_cpu_s
    examples: list[dict[str, str]] = [{"src": s, "ref": r} for s, r in
                                      zip(*text["test"], strict=True)][:cfg.n_examples]
    curves: dict[str, dict[str, list[dict[str, float]]]] = {}
    signature = [""]

    def evaluate(model: torch.nn.Module, split: str) -> tuple[dict[str, float], list[str]]:
        scores, hyps, signature[0] = score(model, prep, cfg, split)
        return scores, hyps

    def one_seed(seed: int) -> dict[str, float]:
        m: dict[str, float] = {}
        for kind in cfg.models:
            torch.manual_seed(seed)
            model = build_model(kind, len(src_vocab), len(tgt_vocab), cfg).to(dev)
            stats, curve = train_epochs(
                model, data["train"], cfg,
                lambda model=model: {k: v for k, v in evaluate(model, "val")[0].items()
                                     if k != "accuracy"},
                seed=seed, log=log, name=kind)
            curves.setdefault(str(seed), {})[kind] = curve
            m.update({f"{kind}_{k}": v for k, v in stats.items()})
            t0 = time.process_time()
            test, hyps = evaluate(model, "test")
            m[f"{kind}_decode_cpu_s"] = time.process_time() - t0
            m[f"{kind}_bleu"], m[f"{kind}_test_accuracy"] = test["bleu"], test["accuracy"]
            m[f"{kind}_mean_hyp_tokens"] = float(np.mean(
                [len(tokenize(h.replace("<unk>", "unk"))) for h in hyps]))
            m.update({f"{kind}_{k}": v for k, v in seq2seq_parameters(model).items()})
            m.update({f"{kind}_{k}": v for k, v in sentence_energy(model, data["test"]).items()})
            if kind in SNNS:
                for i, lif in enumerate(model.lifs):
                    m[f"{kind}_threshold_{i + 1}"] = lif.threshold.item()
                    m[f"{kind}_leak_{i + 1}"] = lif.leak.clamp(0, 1).item()
            if seed == protocol.seeds[0]:
                for ex, h in zip(examples, hyps, strict=False):
                    ex[kind] = h
            log(f"  seed {seed} {kind}: BLEU {m[f'{kind}_bleu']:.2f} (best epoch "
                f"{stats['best_epoch']:.2f}, validation BLEU {stats['val_bleu']:.2f}), "
                f"{stats['updates']} updates, {m[f'{kind}_params']} parameters, "
                f"{m[f'{kind}_energy_pj'] / 1e6:.3g} µJ per sentence")
        for a, b in paired_differences(cfg.models):
            m[f"{a}_minus_{b}_bleu"] = m[f"{a}_bleu"] - m[f"{b}_bleu"]
        return m

    metrics, extra = protocol.run(one_seed, log)
    metrics = {**shared, **metrics}
    validation = official_validation(len(text["train"][0]), len(text["val"][0]), protocol)
    out_dir = Path(cfg.out_dir)
    decoding = ("greedy decoding" if cfg.beam == 1 else
                f"beam search decoding (width {cfg.beam}, length penalty 1: the hypothesis of "
                f"the highest sum of token log-probabilities / its tokens incl. <eos>)")
    plot_model_bars(metrics, cfg.models, [NAMES[m] for m in cfg.models],
                    out_dir / f"{cfg.experiment}.png", params_key="params_trunk",
                    score=("bleu", "test BLEU (greedy)" if cfg.beam == 1
                           else f"test BLEU (beam {cfg.beam})"), per_seed=extra["per_seed"],
                    title=f"Multi30k {cfg.src}-{cfg.tgt}, {length} per model, "
                          f"{len(protocol.seeds)} seed(s)")
    training = (f"{cfg.budget_cpu_s:g} s of process CPU time (time.process_time, one torch "
                f"thread) of training per model; decoding not included"
                if cfg.budget_cpu_s is not None else
                f"{cfg.epochs} epochs per model (the same for every model)")
    write_results(
        out_dir, cfg.experiment, method="lite", command=command, validation=validation,
        config={**asdict(cfg), "budget": cfg.budget_cpu_s is not None,
                "protocol": protocol.as_dict()},
        dataset=f"Multi30k task 1 {cfg.src}->{cfg.tgt}: train ({len(text['train'][0])} "
                f"pairs), val ({len(text['val'][0])} pairs, model selection), test_2016_flickr "
                f"({len(text['test'][0])} pairs)",
        metrics=metrics, headline=[k for k in HEADLINE if k in metrics],
        extra={**extra, "val_curves": curves,
               "bleu": f"sacrebleu corpus BLEU on the test_2016_flickr references, "
                       f"{decoding}, detokenized lowercased hypotheses; signature {signature[0]}",
               "training": training,
               "model_selection": "per model and seed, the epoch with the best validation "
                                  "BLEU (greedy decoding of the val split; ties: the earlier "
                                  "epoch); the test pairs are decoded once, after training",
               "test_accuracy": "teacher-forced next-token accuracy on the test pairs",
               "energy": "45 nm: MAC 4.6 pJ, AC 0.9 pJ, per sentence (encoder over the source, "
                         "decoder once per <bos>+reference position). ReLU CNN and LSTM: all "
                         "MACs. SNN: first encoder/decoder conv (embedding input), attention "
                         "products and W_c (analog context) as MACs; convs, W_q and W_out fed by "
                         "spikes as SynOps (spikes x fan-out). Not counted: neuron updates, "
                         "softmax, embedding lookups, memory",
               "examples": examples},
        paper={"snn_carry_bleu": "conv+attention SNN (LIF membrane as the recurrence) better "
                                 "than the same CNN with ReLU; fewer parameters and lower "
                                 "energy than LSTM (values unverified)"},
        allow_dirty=allow_dirty)
    return metrics
