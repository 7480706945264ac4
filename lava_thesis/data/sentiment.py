"""UCI Sentiment Labelled Sentences: ``<root>/sentiment/{source}_labelled.txt``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lava_thesis.data.archive import ensure_archive
from lava_thesis.data.bounded_read import MAX_TEXT_BYTES, decode_lines, is_blank, read_file_bytes
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sources import SENTIMENT

URL = "https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences"
SOURCES = ("imdb", "amazon_cells", "yelp")
EXPECTED = "UTF-8 lines 'sentence<TAB>label' with label 0 or 1"


def read_labelled(
    path: str | os.PathLike, *, max_bytes: int = MAX_TEXT_BYTES
) -> tuple[list[str], list[int]]:
    """Read one ``sentence<TAB>label`` file.

    A leading byte-order mark is dropped; ``\\r\\n``, ``\\r`` and ``\\n`` end a line (other
    Unicode breaks stay inside the sentence: the IMDB file has U+0085 inside sentences). Blank
    lines (whitespace and U+FEFF only) are skipped; every other line holds exactly one tab, a
    non-blank sentence before it and the label ``0`` or ``1`` after it (surrounding whitespace
    is stripped from both).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file.
    max_bytes : int
        Size limit (default 32 MiB; the real files hold under 100 kB each).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, too large, empty (or only blank lines), invalid UTF-8, a control
        character, or a line without exactly one tab, with a blank sentence or with a label
        other than 0/1 (the message gives the line number).
    """
    path = Path(path)
    lines = decode_lines(read_file_bytes(path, EXPECTED, max_bytes), path, EXPECTED)
    sentences: list[str] = []
    labels: list[int] = []
    for lineno, line in enumerate(lines, start=1):
        if is_blank(line):
            continue
        sentence, tab, label = line.rpartition("\t")
        label = label.strip()
        if not tab or "\t" in sentence or label not in ("0", "1") or is_blank(sentence):
            raise DataFormatError(path, f"malformed line {lineno}: {line[:60]!r}", EXPECTED)
        sentences.append(sentence.strip())
        labels.append(int(label))
    if not sentences:
        raise DataFormatError(path, "no labelled sentences (only blank lines)", EXPECTED)
    return sentences, labels


def load_sentiment(
    data_dir: str | os.PathLike | None = None,
    sources: Sequence[str] = SOURCES,
    *,
    download: bool = True,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Load the labelled sentences of the given sources, concatenated in ``sources`` order.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Data root; files are read from ``<root>/sentiment/``.
    sources : sequence of str
        Any of ``"imdb"``, ``"amazon_cells"``, ``"yelp"``.
    download : bool
        If files are missing, download the UCI zip and extract the three files, each
        SHA-256-verified (see :data:`lava_thesis.data.sources.SENTIMENT`).

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
        A file is missing and cannot be downloaded (every requested source is required; none
        is skipped).
    DataFormatError
        A file :func:`read_labelled` refuses: not a regular file, empty, or a malformed line
        (file and line number in the message).
    """
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown sentiment sources {unknown}; choose from {SOURCES}")
    if not sources or len(set(sources)) != len(sources):
        raise ValueError(f"sources must be distinct and not empty, got {tuple(sources)}")
    directory = resolve_data_dir(data_dir) / "sentiment"
    missing = [
        f"{s}_labelled.txt" for s in sources if not (directory / f"{s}_labelled.txt").exists()
    ]  # not is_file(): read_labelled says why a directory or FIFO is not a usable file
    if missing:
        ensure_archive(directory, SENTIMENT, download, missing=missing)
        missing = [m for m in missing if not (directory / m).exists()]
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
