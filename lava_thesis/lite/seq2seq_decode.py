"""Greedy decoding, detokenization and corpus BLEU for the LITE seq2seq models.

:func:`greedy_decode` feeds ``<bos>``, then at every step the argmax token of the last position
(``y_t = argmax_v logits[t, v]``), re-running the decoder on the prefix, until every sentence
has produced ``<eos>`` or ``max_len`` tokens; ``<eos>`` and what follows are dropped.
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

import sacrebleu
import torch

from lava_thesis.lite.text import BOS, EOS, PAD_ID, Vocab, encode_sentences

__all__ = ["bleu", "detokenize", "greedy_decode", "translate"]

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


def translate(model: torch.nn.Module, sentences: Sequence[str], src_vocab: Vocab,
              tgt_vocab: Vocab, *, max_src_len: int, max_len: int, batch_size: int = 100
              ) -> list[str]:
    """Detokenized greedy translations of raw ``sentences`` (on ``model``'s device).

    Raises ValueError (naming the index) for a sentence without tokens.
    """
    ids, lengths = encode_sentences(sentences, src_vocab, max_src_len)
    dev = next(model.parameters()).device
    ids_t, len_t = torch.from_numpy(ids).to(dev), torch.from_numpy(lengths).to(dev)
    bos, eos = tgt_vocab.stoi[BOS], tgt_vocab.stoi[EOS]
    out: list[str] = []
    for s in range(0, len(ids_t), batch_size):
        n = len_t[s:s + batch_size]
        hyps = greedy_decode(model, ids_t[s:s + batch_size, :int(n.max())], n, bos_id=bos,
                             eos_id=eos, max_len=max_len)
        out += [detokenize([tgt_vocab.itos[t] for t in h]) for h in hyps]
    return out


def bleu(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float | str]:
    """Corpus BLEU (sacrebleu, 13a tokenizer, lowercase): ``{"bleu", "signature"}``."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    metric = sacrebleu.metrics.BLEU(lowercase=True, tokenize="13a")
    score = metric.corpus_score(list(hypotheses), [list(references)])
    return {"bleu": float(score.score), "signature": str(metric.get_signature())}
