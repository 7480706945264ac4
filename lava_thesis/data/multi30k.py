"""Multi30k (task 1) parallel sentences: ``<root>/multi30k/{split}.{lang}[.gz]``."""

from __future__ import annotations

import os
from pathlib import Path

from lava_thesis.data.bounded_read import MAX_TEXT_BYTES, decode_lines, is_blank, read_maybe_gzip
from lava_thesis.data.download import ensure_files
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sources import multi30k_file

URL = "https://github.com/multi30k/dataset (data/task1/raw)"
SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr"}
EXPECTED = "UTF-8 text, one non-blank sentence per line, gzip optional"


def read_lines(path: str | os.PathLike, *, max_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Read a UTF-8 file of one sentence per line (gzipped or not, detected by magic bytes).

    A leading byte-order mark is dropped; ``\\r\\n``, ``\\r`` and ``\\n`` end a line, other
    Unicode line breaks (U+0085, U+2028) stay inside the sentence. A final line break does not
    add an empty line.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file.
    max_bytes : int
        Limit on the file's size and on its decompressed size (default 32 MiB; the largest
        real Multi30k file holds 2.1 MB).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, too large (compressed or decompressed), corrupt gzip data, invalid
        UTF-8, a control character, an empty file or a blank line (whitespace and U+FEFF only;
        the message gives the line).
    """
    raw = read_maybe_gzip(path, EXPECTED, max_bytes)
    lines = decode_lines(raw, path, EXPECTED)
    for lineno, line in enumerate(lines, start=1):
        if is_blank(line):  # whitespace and U+FEFF only
            raise DataFormatError(path, f"line {lineno} is blank", EXPECTED)
    return lines


def _find(directory: Path, stem: str, lang: str) -> Path | None:
    for name in (f"{stem}.{lang}.gz", f"{stem}.{lang}"):
        if (directory / name).exists():  # not is_file(): read_lines says why a non-file is bad
            return directory / name
    return None


def load_multi30k(
    split: str = "train",
    src: str = "de",
    tgt: str = "en",
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
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
    download : bool
        Download missing files (SHA-256-verified, from a pinned commit of the data set's
        repository; see :data:`lava_thesis.data.sources.MULTI30K_SHA256`) into that folder.

    Returns
    -------
    list of (str, str)
        One pair per line.

    Raises
    ------
    DataNotFoundError
        A file is missing and cannot be downloaded.
    DataFormatError
        A file that :func:`read_lines` refuses (not a regular file, too large, bad gzip or
        UTF-8, empty, a blank line), or the two files have different line counts.
    """
    stem = SPLITS.get(split, split)
    if split not in SPLITS and not split.startswith("test_"):
        raise ValueError(f"split must be one of {sorted(SPLITS)} or a test_* stem, got {split!r}")
    directory = resolve_data_dir(data_dir) / "multi30k"
    paths = {lang: _find(directory, stem, lang) for lang in (src, tgt)}
    missing = [f"{stem}.{lang}.gz" for lang, p in paths.items() if p is None]
    if missing:
        remotes = {name: multi30k_file(name) for name in missing}
        unknown = [name for name, remote in remotes.items() if remote is None]
        if unknown:
            raise DataNotFoundError(directory, missing, URL,
                                    f"{', '.join(unknown)}: no such file in the data set")
        ensure_files(directory, [r for r in remotes.values() if r is not None], download=download)
        paths = {lang: _find(directory, stem, lang) for lang in (src, tgt)}
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
