"""FSDD utterances -> audio images, cached per data directory and front-end settings.

The cache file (``<cache_dir>/fsdd_<key>.npz``, default ``~/.cache/lava-thesis/features``) is
keyed by the front-end settings and by every recording's name, size and modification time, so
a changed data directory is recomputed and an unchanged one is read back. A cache file that is
unreadable or holds the wrong arrays (truncated, other keys, shapes, dtypes or labels) is
recomputed and replaced, atomically, like every write of the cache.

Example:
    >>> images, labels = fsdd_images("test", "/path/to/data")  # doctest: +SKIP
    >>> images.shape                                             # doctest: +SKIP
    (300, 28, 28)
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import warnings
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

from lava_thesis.atomic import atomic_path
from lava_thesis.data.errors import DataFormatError
from lava_thesis.data.fsdd import SAMPLE_RATE, FsddRecording, load_fsdd
from lava_thesis.multimodal.audio import (
    DYNAMIC_RANGE_DB,
    N_FILTERS,
    N_FRAMES,
    add_white_noise,
    audio_image,
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/lava-thesis/features`` (default ``~/.cache/lava-thesis/features``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "lava-thesis" / "features"


def _read_cache(path: Path, labels: np.ndarray) -> np.ndarray | None:
    """The cached images if ``path`` is a valid cache for ``labels``, else ``None``.

    Valid: a regular file that is a zip (npz) of exactly ``images.npy`` (uint8,
    ``(N, N_FILTERS, N_FRAMES)``) and ``labels.npy`` (int64, equal to ``labels``). The array
    headers are checked before any array is read, so a corrupt file never makes the reader
    allocate what its header declares.
    """
    n = len(labels)
    want = {"images.npy": (np.dtype(np.uint8), (n, N_FILTERS, N_FRAMES)),
            "labels.npy": (np.dtype(np.int64), (n,))}
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with zipfile.ZipFile(path) as archive:
            if sorted(archive.namelist()) != sorted(want):
                return None
            for name, (dtype, shape) in want.items():
                with archive.open(name) as member:
                    version = npformat.read_magic(member)
                    header = (npformat.read_array_header_1_0 if version == (1, 0)
                              else npformat.read_array_header_2_0)
                    got_shape, _, got_dtype = header(member)
                if got_shape != shape or got_dtype != dtype:
                    return None
            with np.load(path, allow_pickle=False) as cached:
                images, cached_labels = cached["images"], cached["labels"]
    except Exception:  # any unreadable cache (truncated zip, bad header, ...) is rebuilt
        return None
    if not np.array_equal(cached_labels, labels):
        return None
    return images


def _compute(recs: list[FsddRecording], snr_db: float | None, seed: int) -> np.ndarray:
    """Audio images of the recordings; errors about one recording name its file."""
    images = np.empty((len(recs), N_FILTERS, N_FRAMES), np.uint8)
    for i, rec in enumerate(recs):
        signal = rec.read()
        try:
            if snr_db is not None:
                signal = add_white_noise(signal, snr_db, np.random.default_rng((seed, i)))
            images[i] = audio_image(signal, SAMPLE_RATE)
        except ValueError as exc:  # e.g. a silent recording cannot take an SNR
            raise DataFormatError(rec.path, str(exc), "a non-silent FSDD recording") from exc
    return images


def fsdd_images(split: str = "train", data_dir: str | os.PathLike | None = None, *,
                cache_dir: str | os.PathLike | None = None,
                snr_db: float | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Audio images ``(N, 28, 28)`` uint8 and digit labels of an FSDD split (standard split).

    ``snr_db`` adds white noise to every utterance first (seeded per utterance), for the
    robustness experiments. A cache file that cannot be used (truncated, wrong keys, shapes,
    dtypes or labels) is recomputed and replaced; the cache is written atomically, and a cache
    directory that cannot be written only costs the recomputation next time (a warning).

    Raises
    ------
    DataNotFoundError, DataFormatError
        From :func:`lava_thesis.data.fsdd.load_fsdd` and :func:`lava_thesis.data.wav.read_wav`,
        or a recording the front end cannot take (the message names the file).
    """
    recs = load_fsdd(split, data_dir)
    settings = {"n_filters": N_FILTERS, "n_frames": N_FRAMES, "snr_db": snr_db, "seed": seed,
                "dynamic_range_db": DYNAMIC_RANGE_DB, "version": 2}
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode())
    for r in recs:
        st = r.path.stat()
        digest.update(f"{r.path.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    path = Path(cache_dir or default_cache_dir()) / f"fsdd_{split}_{digest.hexdigest()[:16]}.npz"
    labels = np.array([r.digit for r in recs], np.int64)
    images = _read_cache(path, labels)
    if images is not None:
        return images, labels
    images = _compute(recs, snr_db, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, images=images, labels=labels)
    except OSError as exc:
        warnings.warn(f"could not write the feature cache {path}: {exc}", stacklevel=2)
    return images, labels
