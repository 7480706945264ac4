"""UCI Sentiment Labelled Sentences: ``<root>/sentiment/{source}_labelled.txt``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir

URL = "https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences"
SOURCES = ("imdb", "amazon_cells", "yelp")
EXPECTED = "UTF-8 lines 'sentence<TAB>label' with label 0 or 1"


def read_labelled(path: str | os.PathLike) -> tuple[list[str], list[int]]:
    """Read one ``sentence<TAB>label`` file.

    Only ``\\n`` ends a line (the IMDB file has U+0085 inside sentences). Blank lines are
    skipped; the sentence is stripped of surrounding whitespace.

    Raises
    ------
    DataFormatError
        Invalid UTF-8, or a line without a tab or with a label other than 0/1 (the message
        gives the line number).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"invalid UTF-8 at byte {exc.start}", EXPECTED) from exc
    sentences: list[str] = []
    labels: list[int] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        sentence, tab, label = line.rpartition("\t")
        label = label.strip()
        if not tab or label not in ("0", "1") or not sentence.strip():
            raise DataFormatError(path, f"malformed line {lineno}: {line[:60]!r}", EXPECTED)
        sentences.append(sentence.strip())
        labels.append(int(label))
    return sentences, labels


def load_sentiment(
    data_dir: str | os.PathLike | None = None, sources: Sequence[str] = SOURCES
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Load the labelled sentences of the given sources, concatenated in ``sources`` order.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Data root; files are read from ``<root>/sentiment/``.
    sources : sequence of str
        Any of ``"imdb"``, ``"amazon_cells"``, ``"yelp"``.

    Returns
    -------
    sentences : list of str
    labels : np.ndarray
        int64, 1 positive / 0 negative.
    source_ids : np.ndarray
        int64 index into ``sources`` of each sentence's source.

    Raises
    ------
    DataNotFoundError
        A file is missing.
    DataFormatError
        A malformed line (file and line number in the message).
    """
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown sentiment sources {unknown}; choose from {SOURCES}")
    directory = resolve_data_dir(data_dir) / "sentiment"
    missing = [
        f"{s}_labelled.txt" for s in sources if not (directory / f"{s}_labelled.txt").is_file()
    ]
    if missing:
        raise DataNotFoundError(directory, missing, URL)
    sentences: list[str] = []
    labels: list[int] = []
    ids: list[int] = []
    for i, source in enumerate(sources):
        s, lab = read_labelled(directory / f"{source}_labelled.txt")
        sentences += s
        labels += lab
        ids += [i] * len(s)
    return sentences, np.asarray(labels, np.int64), np.asarray(ids, np.int64)
