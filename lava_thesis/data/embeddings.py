"""Pretrained word vectors in the GloVe text format (also word2vec's text format), read for a
vocabulary.

Format: UTF-8 text, one word per line followed by its ``dim`` numbers, separated by single
spaces (``the 0.418 0.24968 -0.41242 ...``); word2vec's text files add a first line
``<count> <dim>``, which is recognised and skipped. GloVe 6B 100d (the LITE-SNN authors'
embeddings, ``glove.6B.100d.txt``, 400,000 words) is not reachable here; the reader is tested
on small files in that format.

The file is streamed line by line and only the words of ``vocab`` are kept, so a 1 GB file
costs memory for the vocabulary's vectors only.

Example
-------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.txt"
>>> _ = path.write_text("good 0.5 1.0\\nbad -0.5 -1.0\\n")
>>> vectors = read_word_vectors(path, vocab=["good", "film"])
>>> sorted(vectors), vectors["good"].tolist()
(['good'], [0.5, 1.0])
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from lava_thesis.data.binfile import open_regular
from lava_thesis.data.errors import DataFormatError

EXPECTED = "word vectors in GloVe text format (UTF-8; 'word v1 ... vd' per line)"
#: longest line read (GloVe 300d lines are about 3 kB)
MAX_LINE_BYTES = 1 << 16
MAX_DIM = 4096


def read_word_vectors(path: str | os.PathLike, vocab: Iterable[str] | None = None, *,
                      dim: int | None = None) -> dict[str, np.ndarray]:
    """The vectors of ``vocab``'s words (all words when None) from a GloVe-format file.

    Parameters
    ----------
    path : str or os.PathLike
        The text file.
    vocab : iterable of str, optional
        Words to keep; the others are parsed for their format only.
    dim : int, optional
        Required vector length; by default the first vector's length sets it.

    Returns
    -------
    dict
        word -> float32 vector of length ``dim`` (the first occurrence of a repeated word).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, empty, not UTF-8, a line longer than :data:`MAX_LINE_BYTES`, a line
        with no numbers, a number that is not finite, or a vector whose length differs from
        the others (or from ``dim``), each naming the line.
    """
    path = Path(path)
    keep = None if vocab is None else set(vocab)
    vectors: dict[str, np.ndarray] = {}
    with open_regular(path, EXPECTED) as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise DataFormatError(path, f"line {number} is longer than {MAX_LINE_BYTES} "
                                            "bytes", EXPECTED)
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise DataFormatError(path, f"line {number} is not UTF-8 ({exc.reason})",
                                      EXPECTED) from exc
            if not line.strip():
                continue
            word, *values = line.rstrip(" ").split(" ")
            if number == 1 and len(values) == 1 and word.isdigit() and values[0].isdigit():
                continue  # word2vec's "<count> <dim>" header
            if not word or not values:
                raise DataFormatError(path, f"line {number} ({line[:40]!r}) is not a word "
                                            "followed by numbers", EXPECTED)
            if dim is None:
                dim = len(values)
                if dim > MAX_DIM:
                    raise DataFormatError(path, f"line {number} has {dim} numbers, more than "
                                                f"{MAX_DIM}", EXPECTED)
            if len(values) != dim:
                raise DataFormatError(path, f"line {number} ({word!r}) has {len(values)} "
                                            f"numbers, expected {dim}", EXPECTED)
            if (keep is None or word in keep) and word not in vectors:
                try:
                    vector = np.array([float(v) for v in values], dtype=np.float64)
                except ValueError as exc:
                    raise DataFormatError(path, f"line {number} ({word!r}): {exc}",
                                          EXPECTED) from exc
                if not np.isfinite(vector).all() or np.abs(vector).max(initial=0) > 3e38:
                    raise DataFormatError(path, f"line {number} ({word!r}) holds a number "
                                                "that is not finite in float32", EXPECTED)
                vectors[word] = vector.astype(np.float32)
    if number == 0:
        raise DataFormatError(path, "the file is empty", EXPECTED)
    return vectors


def embedding_matrix(itos: Iterable[str], vectors: dict[str, np.ndarray], dim: int, *,
                     seed: int = 0, pad_index: int = 0) -> tuple[np.ndarray, float]:
    """An embedding table for the vocabulary ``itos`` (id -> word): each word's pretrained
    vector where ``vectors`` has it, else a draw from a normal with the pretrained vectors'
    mean and std (seeded); the padding row is zero. Returns the table ``(len(itos), dim)``
    float32 and the share of words (padding excluded) that had a vector.

    Raises ``ValueError`` when a vector's length is not ``dim``.
    """
    words = list(itos)
    for word, vector in vectors.items():
        if vector.shape != (dim,):
            raise ValueError(f"the vector of {word!r} has shape {vector.shape}, the embedding "
                             f"dim is {dim}")
    known = np.stack(list(vectors.values())) if vectors else np.zeros((1, dim), np.float32)
    mean, std = float(known.mean()), float(known.std()) or 1.0
    table = np.random.default_rng(seed).normal(mean, std, (len(words), dim)).astype(np.float32)
    hits = 0
    for i, word in enumerate(words):
        if i != pad_index and word in vectors:
            table[i] = vectors[word]
            hits += 1
    if 0 <= pad_index < len(words):
        table[pad_index] = 0.0
    counted = len(words) - (1 if 0 <= pad_index < len(words) else 0)
    return table, (hits / counted if counted else math.nan)
