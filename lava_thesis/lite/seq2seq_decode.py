"""Greedy and beam-search decoding, detokenization and corpus BLEU for the LITE seq2seq models.

:func:`greedy_decode` feeds ``<bos>``, then at every step the argmax token of the last position
(``y_t = argmax_v logits[t, v]``), re-running the decoder on the prefix, until every sentence
has produced ``<eos>`` or ``max_len`` tokens; ``<eos>`` and what follows are dropped.
:func:`beam_decode` keeps the ``beam`` best prefixes per sentence instead and returns the
finished hypothesis of the highest length-normalised log-probability (width 1: greedy).
:func:`bleu` is sacrebleu's corpus BLEU (0..100) with its ``13a`` tokenizer on lowercased text:
hypotheses are token lists of :func:`~lava_thesis.lite.text.tokenize` joined by
:func:`detokenize`; references are the raw sentences of the data set.

Example:
    >>> detokenize(["a", "man", "in", "a", "t", "-", "shirt", "."])
    'a man in a t-shirt.'
    >>> round(bleu(["A dog runs."], ["a dog runs ."])["bleu"], 6)
    100.0
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sacrebleu
import torch

from lava_thesis.lite.text import BOS, EOS, PAD_ID, Vocab, encode_sentences

__all__ = ["beam_decode", "bleu", "detokenize", "greedy_decode", "memory_batch_dims",
           "repeat_memory", "translate"]

_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{]) ")
_HYPHEN = re.compile(r"(\w) - (?=\w)")


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens joined by spaces, without the spaces before ``. , ! ? ; : % ) ] }``, after
    ``( [ {`` and around a hyphen between two words (``t - shirt`` -> ``t-shirt``)."""
    text = _HYPHEN.sub(r"\1-", " ".join(tokens))
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


@torch.no_grad()
def greedy_decode(model: torch.nn.Module, src: torch.Tensor, lengths: torch.Tensor, *,
                  bos_id: int, eos_id: int, max_len: int) -> list[list[int]]:
    """Greedy translations of ``src (B, Ls)`` (lengths ``(B,)``): ``B`` id lists, each at most
    ``max_len`` ids, without ``<bos>``/``<eos>``. ``model`` has ``encode``/``decode``."""
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    model.eval()
    memory = model.encode(src, lengths)
    ys = torch.full((len(src), 1), bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(len(src), dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        nxt = model.decode(memory, ys, last=True)[:, -1].argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, PAD_ID), nxt)
        ys = torch.cat([ys, nxt[:, None]], 1)
        done |= nxt == eos_id
        if bool(done.all()):
            break
    out = []
    for row in ys[:, 1:].tolist():
        out.append(row[:row.index(eos_id)] if eos_id in row else [t for t in row if t != PAD_ID])
    return out


def repeat_memory(memory: Any, beam: int, batch_dims: Sequence[int] | int = 0) -> Any:
    """``memory`` with every tensor repeated ``beam`` times along its batch dimension, the
    copies of a sentence adjacent (``repeat_interleave``): sentence ``b`` -> rows
    ``b beam .. b beam + beam - 1``.

    ``memory`` is a tensor or a tuple/list of them (other entries pass unchanged);
    ``batch_dims`` is the batch dimension of each entry, or one for all. The conv model's
    memory is ``(keys (B, Ls, C), mask (B, Ls))`` (batch dims 0, 0); the LSTM model's is
    ``(outputs (B, Ls, H), mask (B, Ls), h_n (1, B, H), c_n (1, B, H))`` (0, 0, 1, 1), see
    :func:`memory_batch_dims`.
    """
    if isinstance(memory, torch.Tensor):
        return memory.repeat_interleave(beam, dim=batch_dims if isinstance(batch_dims, int)
                                        else batch_dims[0])
    if not isinstance(memory, (tuple, list)):
        raise TypeError(f"memory must be a tensor or a tuple/list of them, got "
                        f"{type(memory).__name__}")
    dims = [batch_dims] * len(memory) if isinstance(batch_dims, int) else list(batch_dims)
    if len(dims) != len(memory):
        raise ValueError(f"{len(dims)} batch dims for {len(memory)} memory entries")
    out = [m.repeat_interleave(beam, dim=d) if isinstance(m, torch.Tensor) else m
           for m, d in zip(memory, dims, strict=True)]
    return type(memory)(out)


def memory_batch_dims(model: torch.nn.Module) -> Sequence[int] | int:
    """The batch dimension of each entry of ``model.encode``'s memory: the model's
    ``memory_batch_dims`` attribute if it has one
    (:class:`~lava_thesis.lite.seq2seq_models.LstmSeq2Seq`), else 0 for every entry."""
    return getattr(model, "memory_batch_dims", 0)


@torch.no_grad()
def beam_decode(model: torch.nn.Module, src: torch.Tensor, lengths: torch.Tensor, *,
                bos_id: int, eos_id: int, max_len: int, beam: int,
                length_penalty: float = 1.0) -> list[list[int]]:
    r"""Beam-search translations of ``src (B, Ls)`` (lengths ``(B,)``): ``B`` id lists, each at
    most ``max_len`` ids, without ``<bos>``/``<eos>`` (the format of :func:`greedy_decode`).

    A hypothesis ``y = y_1 .. y_n`` (``y_n = <eos>`` when finished) scores

    .. math::

        s(y) = \sum_{t=1}^{n} \log p(y_t \mid y_{<t}, x), \qquad
        \hat s(y) = \frac{s(y)}{n^{\alpha}}

    with ``alpha = length_penalty`` (0: the plain sum; 1: the mean log-probability per token)
    and ``n`` the number of generated tokens *including* ``<eos>`` (the number of summed
    terms); ``log p`` is the log-softmax of the decoder's logits (computed in float64).

    Every step, the ``K = beam`` live prefixes of each sentence (one, ``<bos>``, at the start)
    are extended by every token, giving ``K V`` candidates ranked by ``s``. A candidate ending
    in ``<eos>`` that ranks among the top ``K`` is *finished*: it leaves the beam and is kept
    (only the best ``\hat s`` per sentence matters); the ``K`` best candidates not ending in
    ``<eos>`` are the next live prefixes. A sentence stops once ``K`` hypotheses have finished
    (early stopping, as fairseq); at ``max_len`` steps its live prefixes, ``n = max_len``
    tokens without ``<eos>``, compete too. The output is the hypothesis of the highest
    ``\hat s`` (ties: a finished one). With ``beam = 1`` this is :func:`greedy_decode`.

    Shapes: the memory is repeated to ``B K`` rows (:func:`repeat_memory`) and every step runs
    the decoder once on the ``(B K, t + 1)`` prefixes, so the loop is over steps only.

    Raises ValueError for ``beam < 1`` or ``max_len < 1``.
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    model.eval()
    b, k, dev = len(src), beam, src.device
    memory = repeat_memory(model.encode(src, lengths), k, memory_batch_dims(model))
    dtype = torch.float32 if dev.type == "mps" else torch.float64  # no float64 on MPS
    neg_inf = float("-inf")
    ys = torch.full((b * k, 1), bos_id, dtype=torch.long, device=dev)
    scores = torch.full((b, k), neg_inf, dtype=dtype, device=dev)
    scores[:, 0] = 0.0  # one live prefix at the start: no duplicate candidates
    own = torch.arange(b, device=dev)[:, None] * k  # first row of each sentence (B, 1)
    rows = own + torch.arange(k, device=dev)  # (B, K)
    best = torch.full((b,), neg_inf, dtype=dtype, device=dev)  # best finished \hat s
    best_ids = torch.full((b, max_len), PAD_ID, dtype=torch.long, device=dev)
    best_len = torch.zeros(b, dtype=torch.long, device=dev)
    n_finished = torch.zeros(b, dtype=torch.long, device=dev)
    done = torch.zeros(b, dtype=torch.bool, device=dev)
    for t in range(max_len):
        logp = torch.log_softmax(model.decode(memory, ys, last=True)[:, -1].to(dtype), -1)
        v = logp.shape[-1]
        cand = (scores.reshape(-1, 1) + logp).view(b, k, v)  # s of every extension
        # finished: <eos> extensions ranked among the top K candidates
        kth = cand.view(b, -1).topk(k, dim=-1).values[:, -1:]
        eos_s = cand[:, :, eos_id]
        admitted = (eos_s >= kth) & torch.isfinite(eos_s) & ~done[:, None]
        norm = torch.where(admitted, eos_s / float(t + 1) ** length_penalty,
                           torch.full_like(eos_s, neg_inf))
        top, top_k = norm.max(1)
        better = top > best
        best = torch.where(better, top, best)
        best_len = torch.where(better, torch.full_like(best_len, t), best_len)
        best_ids[:, :t] = torch.where(better[:, None], ys[own[:, 0] + top_k, 1:],
                                      best_ids[:, :t])
        n_finished += admitted.sum(1)
        done |= n_finished >= k
        # live: the K best candidates not ending in <eos>; a stopped sentence's rows stay
        cand[:, :, eos_id] = neg_inf
        new_scores, idx = cand.view(b, -1).topk(k, dim=-1)
        keep = done[:, None]
        src_rows = torch.where(keep, rows, own + idx // v)
        nxt = torch.where(keep, torch.full_like(idx, PAD_ID), idx % v)
        scores = torch.where(keep, scores, new_scores)
        ys = torch.cat([ys[src_rows.view(-1)], nxt.view(-1, 1)], 1)
        if bool(done.all()):
            break
    # sentences still running after max_len steps: their live prefixes compete too
    live, live_k = (scores / float(ys.shape[1] - 1) ** length_penalty).max(1)
    use_live = (~done & (live > best)).tolist()
    live_rows, best_len = (own[:, 0] + live_k).tolist(), best_len.tolist()
    ys_list, best_list = ys[:, 1:].tolist(), best_ids.tolist()
    return [[t for t in ys_list[live_rows[i]] if t != PAD_ID] if use_live[i]
            else best_list[i][:best_len[i]] for i in range(b)]


def translate(model: torch.nn.Module, sentences: Sequence[str], src_vocab: Vocab,
              tgt_vocab: Vocab, *, max_src_len: int, max_len: int, batch_size: int = 100,
              beam: int = 1, length_penalty: float = 1.0) -> list[str]:
    """Detokenized translations of raw ``sentences`` (on ``model``'s device): greedy
    (:func:`greedy_decode`) for ``beam = 1``, else :func:`beam_decode` of that width and
    ``length_penalty`` (``batch_size`` sentences, ``batch_size * beam`` decoder rows at once).

    Raises ValueError for ``beam < 1`` and (naming the index) for a sentence without tokens.
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1 (1: greedy decoding), got {beam}")
    ids, lengths = encode_sentences(sentences, src_vocab, max_src_len)
    dev = next(model.parameters()).device
    ids_t, len_t = torch.from_numpy(ids).to(dev), torch.from_numpy(lengths).to(dev)
    bos, eos = tgt_vocab.stoi[BOS], tgt_vocab.stoi[EOS]
    out: list[str] = []
    for s in range(0, len(ids_t), batch_size):
        n = len_t[s:s + batch_size]
        src = ids_t[s:s + batch_size, :int(n.max())]
        hyps = (greedy_decode(model, src, n, bos_id=bos, eos_id=eos, max_len=max_len)
                if beam == 1 else
                beam_decode(model, src, n, bos_id=bos, eos_id=eos, max_len=max_len, beam=beam,
                            length_penalty=length_penalty))
        out += [detokenize([tgt_vocab.itos[t] for t in h]) for h in hyps]
    return out


def bleu(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float | str]:
    """Corpus BLEU (sacrebleu, 13a tokenizer, lowercase): ``{"bleu", "signature"}``."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    metric = sacrebleu.metrics.BLEU(lowercase=True, tokenize="13a")
    score = metric.corpus_score(list(hypotheses), [list(references)])
    return {"bleu": float(score.score), "signature": str(metric.get_signature())}
