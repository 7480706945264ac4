"""CIFAR-10 / CIFAR-100, python version: pickled batches, optionally downloaded and extracted.

Layout under the data root (as the official tarballs extract)::

    cifar-10-batches-py/{data_batch_1..5, test_batch}
    cifar-100-python/{train, test}
"""

from __future__ import annotations

import os
import pickle
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from lava_thesis.data.download import RemoteFile, ensure_files
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir

CIFAR10 = RemoteFile(
    "cifar-10-python.tar.gz",
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    md5="c58f30108f718f92721af3b95e74349a",
)
CIFAR100 = RemoteFile(
    "cifar-100-python.tar.gz",
    "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    md5="eb9058c3a382ffc7106e4002c42a8d85",
)
# Globals a CIFAR pickle may reference (numpy arrays; bytes pickled by Python 3, protocol 2).
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _Unpickler(pickle.Unpickler):
    """Refuses every global but the few that plain numpy arrays need (no code execution)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return super().find_class(module, name)


def read_cifar_batch(
    path: str | os.PathLike, label_key: bytes = b"labels", n_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Read one pickled CIFAR batch.

    Parameters
    ----------
    path : str or os.PathLike
        The batch file (a protocol-2 pickle of a dict with bytes keys).
    label_key : bytes
        ``b"labels"`` (CIFAR-10), ``b"fine_labels"`` or ``b"coarse_labels"`` (CIFAR-100).
    n_classes : int
        Labels must lie in ``[0, n_classes)``.

    Returns
    -------
    images : np.ndarray
        uint8, shape (N, 32, 32, 3).
    labels : np.ndarray
        int64, shape (N,).

    Raises
    ------
    DataFormatError
        A truncated or corrupt pickle, missing keys, or wrong shapes or label values.
    """
    path = Path(path)
    expected = f"CIFAR python pickle: dict with b'data' (N, 3072) uint8 and {label_key!r}"
    try:
        with open(path, "rb") as handle:
            batch = _Unpickler(handle, encoding="bytes").load()
    except Exception as exc:  # truncated/corrupt pickles raise many kinds of errors
        raise DataFormatError(
            path, f"cannot unpickle ({type(exc).__name__}: {exc})", expected
        ) from exc
    if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise DataFormatError(path, f"wrong keys: {keys}", expected)
    data = batch[b"data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
    ):
        shape = getattr(data, "shape", None)
        raise DataFormatError(path, f"b'data' is {type(data).__name__} {shape}", expected)
    try:
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(path, f"{label_key!r} are not integers", expected) from exc
    if labels.shape != (len(data),):
        raise DataFormatError(path, f"{labels.shape} labels for {len(data)} images", expected)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataFormatError(path, f"label values outside [0, {n_classes})", expected)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _safe_extract(tar_path: Path, root: Path, folder: str) -> None:
    """Extract ``tar_path`` into ``root`` via a temp dir; refuse members outside ``folder/``."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=root))
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                if (
                    not parts
                    or parts[0] != folder
                    or ".." in parts
                    or not (member.isfile() or member.isdir())
                ):
                    raise DataFormatError(
                        tar_path,
                        f"unsafe or unexpected member {member.name!r}",
                        f"a tarball of {folder}/",
                    )
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # Python < 3.11.4; members were checked above
                tar.extractall(tmp)  # noqa: S202
        os.replace(tmp / folder, root / folder)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataFormatError(tar_path, f"cannot extract ({exc})", "a gzipped tarball") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _dataset_dir(
    data_dir: str | os.PathLike | None, folder: str, remote: RemoteFile, download: bool
) -> Path:
    root = resolve_data_dir(data_dir)
    if (root / folder).is_dir():
        return root / folder
    try:
        tar_path = ensure_files(root, [remote], download=download)[0]
    except DataNotFoundError as exc:
        raise DataNotFoundError(
            root,
            [f"{folder}/ (extracted from {remote.path}, or the tarball itself)"],
            f"{remote.url}, md5 {remote.md5}",
            exc.reason,
        ) from exc
    _safe_extract(tar_path, root, folder)
    return root / folder


def _load(directory: Path, names: list[str], label_key: bytes, n_classes: int):
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise DataNotFoundError(directory, missing, reason="the extracted folder is incomplete")
    parts = [read_cifar_batch(directory / n, label_key, n_classes) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def load_cifar10(
    split: str = "train", data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load CIFAR-10.

    Parameters
    ----------
    split : {"train", "test"}
        50,000 training images (``data_batch_1..5``) or 10,000 test images (``test_batch``).
    data_dir : str or os.PathLike, optional
        Data root holding ``cifar-10-batches-py/``.
    download : bool
        If the folder is missing, download (md5-checked) and extract the official tarball.

    Returns
    -------
    images : np.ndarray
        uint8, (N, 32, 32, 3).
    labels : np.ndarray
        int64, (N,), values 0-9.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = _dataset_dir(data_dir, "cifar-10-batches-py", CIFAR10, download)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    return _load(directory, names, b"labels", 10)


def load_cifar100(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    labels: str = "fine",
    *,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load CIFAR-100.

    Parameters
    ----------
    split : {"train", "test"}
        50,000 or 10,000 images.
    data_dir : str or os.PathLike, optional
        Data root holding ``cifar-100-python/``.
    labels : {"fine", "coarse"}
        100 fine classes or 20 coarse superclasses.
    download : bool
        If the folder is missing, download (md5-checked) and extract the official tarball.

    Returns
    -------
    images : np.ndarray
        uint8, (N, 32, 32, 3).
    labels : np.ndarray
        int64, (N,).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if labels not in ("fine", "coarse"):
        raise ValueError(f"labels must be 'fine' or 'coarse', got {labels!r}")
    directory = _dataset_dir(data_dir, "cifar-100-python", CIFAR100, download)
    n_classes = 100 if labels == "fine" else 20
    return _load(directory, [split], f"{labels}_labels".encode(), n_classes)
