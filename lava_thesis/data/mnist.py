"""MNIST and Fashion-MNIST from their IDX files: ``<root>/mnist/``, ``<root>/fashion-mnist/``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lava_thesis.data.download import RemoteFile, ensure_files
from lava_thesis.data.errors import DataFormatError
from lava_thesis.data.idx import read_idx
from lava_thesis.data.root import resolve_data_dir

SPLITS = {"train": "train", "test": "t10k"}

# dataset -> (folder, base URLs (first is primary), md5 of the official *.gz files)
DATASETS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "mnist": (
        "mnist",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        {
            "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion-mnist": (
        "fashion-mnist",
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        {
            "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
}

# MD5 of the uncompressed official MNIST files (the same for any re-compression).
MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
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
