"""Free Spoken Digit Dataset: ``<root>/fsdd/recordings/{digit}_{speaker}_{index}.wav``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lava_thesis.data.archive import ensure_archive
from lava_thesis.data.bounded_read import regular_file
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sources import FSDD
from lava_thesis.data.wav import EXPECTED, read_wav

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset (its recordings/ folder)"
SAMPLE_RATE = 8000
TEST_TAKES = 5  # the standard split: takes 0-4 of every speaker and digit are the test set
_NAME = re.compile(r"([0-9])_([A-Za-z][A-Za-z0-9-]{0,63})_([0-9]{1,6})\.wav")
NAME_PATTERN = "{digit}_{speaker}_{index}.wav (digit 0-9, index 0-999999)"


@dataclass(frozen=True)
class FsddRecording:
    """One FSDD recording: its file and what its name says."""

    path: Path
    digit: int
    speaker: str
    index: int

    def read(self, resample: bool = False) -> np.ndarray:
        """Return the audio as float32 samples in [-1, 1] at 8 kHz (see :func:`read_wav`)."""
        return read_wav(self.path, SAMPLE_RATE, resample=resample)


def parse_fsdd_name(path: str | os.PathLike) -> FsddRecording:
    """Parse ``{digit}_{speaker}_{index}.wav``.

    The digit is one character 0-9; the speaker starts with a letter and holds letters, digits
    and ``-``; the index is 1-6 decimal digits. Nothing else may be in the name (so ``10_x_1.wav``
    or ``3_x_1.wav.bak`` do not parse).

    Raises
    ------
    DataFormatError
        The name does not follow the pattern.
    """
    path = Path(path)
    m = _NAME.fullmatch(path.name)
    if m is None:
        raise DataFormatError(path, "file name does not parse", NAME_PATTERN)
    return FsddRecording(path, int(m.group(1)), m.group(2), int(m.group(3)))


def _parse_all(paths: list[Path]) -> list[FsddRecording]:
    """Parse every name; each must be a regular file and (digit, speaker, index) unique."""
    seen: dict[tuple[int, str, int], Path] = {}
    recs = []
    for p in paths:
        rec = parse_fsdd_name(regular_file(p, EXPECTED))
        key = (rec.digit, rec.speaker, rec.index)
        if key in seen:
            raise DataFormatError(
                p, f"names the same recording as {seen[key].name}", f"unique {NAME_PATTERN}"
            )
        seen[key] = p
        recs.append(rec)
    return recs


def load_fsdd(
    split: str = "train", data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> list[FsddRecording]:
    """List FSDD recordings of a split (audio is read lazily by :meth:`FsddRecording.read`).

    Parameters
    ----------
    split : {"train", "test", "all"}
        Standard split: takes 0-4 are the test set, takes 5-49 the training set.
    data_dir : str or os.PathLike, optional
        Data root; recordings are read from ``<root>/fsdd/recordings/``.
    download : bool
        If that folder holds no recordings, download the pinned FSDD archive and extract its
        3,000 recordings, verified (see :data:`lava_thesis.data.sources.FSDD`).

    Returns
    -------
    list of FsddRecording
        Sorted by (speaker, digit, index). Files other than ``*.wav`` are ignored.

    Raises
    ------
    DataNotFoundError
        The folder is missing or holds no ``.wav`` files, and they cannot be downloaded.
    DataFormatError
        A ``.wav`` entry is not a regular file, its name does not follow
        ``{digit}_{speaker}_{index}.wav``, or two names give the same digit, speaker and take.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    directory = resolve_data_dir(data_dir) / "fsdd" / "recordings"
    wavs = sorted(directory.glob("*.wav")) if directory.is_dir() else []
    if not wavs:
        ensure_archive(directory.parent, FSDD, download)
        wavs = sorted(directory.glob("*.wav"))
    if not wavs:
        raise DataNotFoundError(directory, ["{digit}_{speaker}_{index}.wav files"], URL)
    recs = _parse_all(wavs)
    if split != "all":
        recs = [r for r in recs if (r.index < TEST_TAKES) == (split == "test")]
    return sorted(recs, key=lambda r: (r.speaker, r.digit, r.index))
