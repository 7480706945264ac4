"""Free Spoken Digit Dataset: ``<root>/fsdd/recordings/{digit}_{speaker}_{index}.wav``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.wav import read_wav

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset (its recordings/ folder)"
SAMPLE_RATE = 8000
TEST_TAKES = 5  # the standard split: takes 0-4 of every speaker and digit are the test set
_NAME = re.compile(r"^([0-9])_([A-Za-z][A-Za-z0-9-]*)_([0-9]+)\.wav$")


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

    Raises
    ------
    DataFormatError
        The name does not follow the pattern.
    """
    path = Path(path)
    m = _NAME.match(path.name)
    if m is None:
        raise DataFormatError(path, "file name does not parse", "{digit}_{speaker}_{index}.wav")
    return FsddRecording(path, int(m.group(1)), m.group(2), int(m.group(3)))


def load_fsdd(
    split: str = "train", data_dir: str | os.PathLike | None = None
) -> list[FsddRecording]:
    """List FSDD recordings of a split (audio is read lazily by :meth:`FsddRecording.read`).

    Parameters
    ----------
    split : {"train", "test", "all"}
        Standard split: takes 0-4 are the test set, takes 5-49 the training set.
    data_dir : str or os.PathLike, optional
        Data root; recordings are read from ``<root>/fsdd/recordings/``.

    Returns
    -------
    list of FsddRecording
        Sorted by (speaker, digit, index). Files other than ``*.wav`` are ignored.

    Raises
    ------
    DataNotFoundError
        The folder is missing or holds no ``.wav`` files.
    DataFormatError
        A ``.wav`` file's name does not follow ``{digit}_{speaker}_{index}.wav``.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    directory = resolve_data_dir(data_dir) / "fsdd" / "recordings"
    wavs = sorted(directory.glob("*.wav")) if directory.is_dir() else []
    if not wavs:
        raise DataNotFoundError(directory, ["{digit}_{speaker}_{index}.wav files"], URL)
    recs = [parse_fsdd_name(p) for p in wavs]
    if split != "all":
        recs = [r for r in recs if (r.index < TEST_TAKES) == (split == "test")]
    return sorted(recs, key=lambda r: (r.speaker, r.digit, r.index))
