"""Word tokens, a vocabulary from the training split, and padded id matrices.

Tokens: the lowercased text split by ``\\w+(?:'\\w+)*|[^\\w\\s]``, i.e. words (letters, digits,
underscore; inner apostrophes kept: ``don't``) and every other non-space character as its own
token (punctuation, emoji).

Ids: ``<pad>`` is 0 and ``<unk>`` is 1; every token of the training split seen at least
``min_count`` times gets an id from 2 on, most frequent first (ties alphabetical), up to
``max_size`` ids in all (the two specials included). Any other token (rare, or only in the
validation/test text) encodes as ``<unk>``. ``Vocab.build(..., specials=(BOS, EOS))`` puts extra
special tokens (sentence begin/end for sequence-to-sequence) right after the two, at ids 2, 3, ...;
without ``specials`` the ids are as above. Sequences are right-padded with 0 and truncated to
their first ``max_len`` tokens.

Example:
    >>> vocab = Vocab.build([tokenize("Good movie!"), tokenize("bad movie.")])
    >>> vocab.itos[:4], vocab.encode(tokenize("A good movie"))
    (('<pad>', '<unk>', 'movie', '!'), [1, 6, 2])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BOS", "EOS", "PAD", "PAD_ID", "UNK", "UNK_ID", "Vocab", "encode_sentences",
           "pad_sequences", "tokenize"]

PAD, UNK = "<pad>", "<unk>"
BOS, EOS = "<bos>", "<eos>"  #: optional specials (``Vocab.build(..., specials=(BOS, EOS))``)
PAD_ID, UNK_ID = 0, 1
MAX_PAD_ELEMENTS = 2**26  #: largest id matrix pad_sequences makes (64 Mi int64 ids, 512 MiB)
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Lowercased word and punctuation tokens of ``text`` (see the module docstring).

    A byte-order mark / zero-width no-break space (U+FEFF) is invisible, so it is dropped
    rather than made a token; ``\\r``, ``\\n`` and other whitespace only separate tokens.
    """
    return _TOKEN.findall(text.lower().replace("\ufeff", ""))


@dataclass(frozen=True)
class Vocab:
    """Token <-> id maps; ``itos[0] == "<pad>"``, ``itos[1] == "<unk>"``."""

    itos: tuple[str, ...]
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if tuple(self.itos[:2]) != (PAD, UNK) or len(set(self.itos)) != len(self.itos):
            raise ValueError("itos must start with '<pad>', '<unk>' and hold no duplicates")
        if not all(isinstance(t, str) and t for t in self.itos):
            raise ValueError("itos must hold non-empty strings")
        object.__setattr__(self, "itos", tuple(self.itos))
        object.__setattr__(self, "stoi", {s: i for i, s in enumerate(self.itos)})

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], *, min_count: int = 1,
              max_size: int | None = None, specials: Sequence[str] = ()) -> Vocab:
        """Vocabulary of the tokens in ``token_lists`` (pass the training split only).

        Parameters
        ----------
        token_lists : iterable of token sequences
        min_count : int
            Tokens seen fewer times become ``<unk>``.
        max_size : int, optional
            Total number of ids, all specials included (>= 2 + len(specials)).
        specials : sequence of str
            Extra special tokens (e.g. ``(BOS, EOS)``) given ids 2, 3, ... in this order.

        Raises
        ------
        ValueError
            Bad ``min_count``/``max_size``, or no tokens at all (an empty training text gives
            no vocabulary rather than one of specials only).
        """
        fixed = (PAD, UNK, *specials)
        if min_count < 1 or (max_size is not None and max_size < len(fixed)):
            raise ValueError(f"min_count must be >= 1 and max_size >= {len(fixed)}, got "
                             f"{min_count}, {max_size}")
        counts = Counter(t for tokens in token_lists for t in tokens if t not in fixed)
        if not counts:
            raise ValueError("no tokens to build a vocabulary from (empty training text)")
        kept = sorted((t for t, c in counts.items() if c >= min_count),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size - len(fixed)]
        return cls((*fixed, *kept))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown tokens are ``UNK_ID``."""
        return [self.stoi.get(t, UNK_ID) for t in tokens]


def pad_sequences(seqs: Sequence[Sequence[int]], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad (with ``PAD_ID``) or truncate id sequences to ``max_len``.

    Returns
    -------
    ids : np.ndarray
        ``(N, max_len)`` int64.
    lengths : np.ndarray
        ``(N,)`` int64, the kept lengths ``min(len(seq), max_len)`` (all >= 1).

    Raises
    ------
    ValueError
        ``max_len < 1``, ``len(seqs) * max_len > MAX_PAD_ELEMENTS`` (2**26, a 512 MiB
        matrix), or an empty sequence or one holding anything but non-negative integer ids
        (the message gives its index).
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if len(seqs) * max_len > MAX_PAD_ELEMENTS:
        raise ValueError(f"{len(seqs)} sequences of max_len {max_len} exceed "
                         f"{MAX_PAD_ELEMENTS} ids")
    ids = np.full((len(seqs), max_len), PAD_ID, np.int64)
    lengths = np.zeros(len(seqs), np.int64)
    for i, seq in enumerate(seqs):
        if len(seq) == 0:
            raise ValueError(f"sequence {i} is empty")
        kept = list(seq[:max_len])
        if not all(isinstance(t, (int, np.integer)) and 0 <= t < 2**63 for t in kept):
            raise ValueError(f"sequence {i} holds ids other than non-negative integers")
        ids[i, :len(kept)] = kept
        lengths[i] = len(kept)
    return ids, lengths


def encode_sentences(sentences: Sequence[str], vocab: Vocab, max_len: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Tokenize, encode and pad ``sentences``: ``(N, max_len)`` ids and ``(N,)`` lengths.

    Raises ValueError naming the index of a sentence without tokens (empty or whitespace).
    """
    seqs = []
    for i, sentence in enumerate(sentences):
        tokens = tokenize(sentence)
        if not tokens:
            raise ValueError(f"sentence {i} has no tokens: {sentence[:40]!r}")
        seqs.append(vocab.encode(tokens))
    return pad_sequences(seqs, max_len)
