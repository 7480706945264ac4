"""Multi30k (task 1) parallel sentences: ``<root>/multi30k/{split}.{lang}[.gz]``."""

from __future__ import annotations

import os
from pathlib import Path

from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.idx import read_bytes_maybe_gzip
from lava_thesis.data.root import resolve_data_dir

URL = "https://github.com/multi30k/dataset (data/task1/raw)"
SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr"}
EXPECTED = "UTF-8 text, one sentence per line, gzip optional"


def read_lines(path: str | os.PathLike) -> list[str]:
    """Read a UTF-8 line file (gzipped or not, detected by magic bytes).

    Only ``\\n`` (and a ``\\r`` before it) ends a line; other Unicode line breaks stay inside
    the sentence. A final newline does not add an empty line.

    Raises
    ------
    DataFormatError
        Corrupt gzip data or invalid UTF-8.
    """
    raw = read_bytes_maybe_gzip(path, EXPECTED)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"invalid UTF-8 at byte {exc.start}", EXPECTED) from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _find(directory: Path, stem: str, lang: str) -> Path | None:
    for name in (f"{stem}.{lang}.gz", f"{stem}.{lang}"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_multi30k(
    split: str = "train",
    src: str = "de",
    tgt: str = "en",
    data_dir: str | os.PathLike | None = None,
) -> list[tuple[str, str]]:
    """Load aligned (source, target) sentence pairs.

    Parameters
    ----------
    split : str
        ``"train"`` (29,000), ``"val"`` (1,014), ``"test"`` (= ``test_2016_flickr``, 1,000),
        or another file stem such as ``"test_2017_flickr"``.
    src, tgt : str
        Language codes (``"de"``, ``"en"``, ``"fr"``, ``"cs"``).
    data_dir : str or os.PathLike, optional
        Data root; files are read from ``<root>/multi30k/``.

    Returns
    -------
    list of (str, str)
        One pair per line.

    Raises
    ------
    DataNotFoundError
        A file is missing.
    DataFormatError
        Bad gzip/UTF-8 data, or the two files have different line counts.
    """
    stem = SPLITS.get(split, split)
    if split not in SPLITS and not split.startswith("test_"):
        raise ValueError(f"split must be one of {sorted(SPLITS)} or a test_* stem, got {split!r}")
    directory = resolve_data_dir(data_dir) / "multi30k"
    paths = {lang: _find(directory, stem, lang) for lang in (src, tgt)}
    missing = [f"{stem}.{lang}.gz" for lang, p in paths.items() if p is None]
    if missing:
        raise DataNotFoundError(directory, missing, URL)
    src_path, tgt_path = paths[src], paths[tgt]
    assert src_path is not None and tgt_path is not None
    src_lines, tgt_lines = read_lines(src_path), read_lines(tgt_path)
    if len(src_lines) != len(tgt_lines):
        raise DataFormatError(
            tgt_path,
            f"{len(tgt_lines)} lines but {src_path} has {len(src_lines)}",
            "line-aligned files with equal line counts",
        )
    return list(zip(src_lines, tgt_lines, strict=True))
