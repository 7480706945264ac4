"""MNIST and Fashion-MNIST from their IDX files: ``<root>/mnist/``, ``<root>/fashion-mnist/``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from lava_thesis.data.download import RemoteFile, ensure_files
from lava_thesis.data.errors import DataFormatError
from lava_thesis.data.idx import read_idx
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sources import FASHION_MNIST_MD5, FASHION_MNIST_URLS, MNIST_MD5, MNIST_URLS
from lava_thesis.data.sources import MNIST_RAW_MD5 as MNIST_RAW_MD5  # re-exported

SPLITS = {"train": "train", "test": "t10k"}

# dataset -> (folder, base URLs (first is primary), md5 of the official *.gz files); the URLs
# and checksums live in lava_thesis.data.sources. MNIST_RAW_MD5 (imported from there) holds the
# md5 of the uncompressed official MNIST files.
DATASETS: dict[str, tuple[str, tuple[str, ...], Mapping[str, str]]] = {
    "mnist": ("mnist", MNIST_URLS, MNIST_MD5),
    "fashion-mnist": ("fashion-mnist", FASHION_MNIST_URLS, FASHION_MNIST_MD5),
}


def _locate(directory: Path, stem: str, dataset: str) -> Path | RemoteFile:
    """Return ``stem`` or ``stem.gz`` in ``directory`` if present, else how to fetch ``stem.gz``."""
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    _, bases, md5s = DATASETS[dataset]
    return RemoteFile(
        stem + ".gz",
        bases[0] + stem + ".gz",
        md5=md5s[stem],
        mirrors=tuple(b + stem + ".gz" for b in bases[1:]),
    )


def load_mnist(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    dataset: str = "mnist",
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST or Fashion-MNIST.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    data_dir : str or os.PathLike, optional
        Data root (see :func:`~lava_thesis.data.root.resolve_data_dir`); files are read from
        ``<root>/mnist/`` or ``<root>/fashion-mnist/``, named
        ``{train,t10k}-{images-idx3,labels-idx1}-ubyte`` with or without ``.gz``.
    dataset : {"mnist", "fashion-mnist"}
        Which data set.
    download : bool
        Download missing files (checksum-verified) into that folder.

    Returns
    -------
    images : np.ndarray
        uint8, shape (N, 28, 28).
    labels : np.ndarray
        int64, shape (N,), values 0-9.

    Raises
    ------
    DataNotFoundError
        Files are missing and cannot be downloaded.
    DataFormatError
        A file is corrupt, has the wrong shape, or images and labels disagree in count.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    directory = resolve_data_dir(data_dir) / DATASETS[dataset][0]
    prefix = SPLITS[split]
    found = [
        _locate(directory, f"{prefix}-{kind}-ubyte", dataset)
        for kind in ("images-idx3", "labels-idx1")
    ]
    remotes = [f for f in found if isinstance(f, RemoteFile)]
    fetched = iter(ensure_files(directory, remotes, download=download) if remotes else [])
    img_path, lbl_path = (f if isinstance(f, Path) else next(fetched) for f in found)
    images = read_idx(img_path)
    labels = read_idx(lbl_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFormatError(
            img_path, f"{images.dtype} array of shape {images.shape}", "uint8 (N, 28, 28) images"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFormatError(
            lbl_path, f"{labels.dtype} array of shape {labels.shape}", "uint8 (N,) labels"
        )
    if len(labels) != len(images):
        raise DataFormatError(
            lbl_path,
            f"{len(labels)} labels but {img_path.name} has {len(images)} images",
            "one label per image",
        )
    if labels.size and labels.max() > 9:
        raise DataFormatError(lbl_path, f"label {int(labels.max())} found", "labels 0-9")
    return images, labels.astype(np.int64)


def load_fashion_mnist(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST; same as ``load_mnist(split, data_dir, dataset="fashion-mnist")``."""
    return load_mnist(split, data_dir, dataset="fashion-mnist", download=download)
