"""CIFAR-10 / CIFAR-100, python version: pickled batches, optionally downloaded and extracted.

Layout under the data root (as the official tarballs extract)::

    cifar-10-batches-py/{data_batch_1..5, test_batch}
    cifar-100-python/{train, test}

A batch is read without trusting it: the pickle is first walked opcode by opcode (every
length it declares must be present in the file, memo indices must be sequential), then
loaded by an unpickler that knows only plain containers and builds numpy arrays itself
(see :mod:`lava_thesis.data.cifar_pickle`), and finally checked: ``b'data'`` exactly
``(N, 3072)`` uint8, ``N >= 1`` labels of integer type in range, and ``N * 3072`` no more
bytes than the file holds.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from lava_thesis.data.binfile import file_size, open_regular, read_exact
from lava_thesis.data.cifar_pickle import load_restricted
from lava_thesis.data.download import RemoteFile, ensure_files, file_digest
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sources import CIFAR10, CIFAR100  # the official tarballs and their md5

#: Default largest batch file read (CIFAR-100's training batch is 155 MB).
MAX_BATCH_BYTES = 512 << 20
#: Largest total a tarball may extract to (both official tarballs extract to under 200 MB);
#: checked from the member headers before anything is written.
MAX_EXTRACT_BYTES = 1 << 30
IMAGE_BYTES = 3 * 32 * 32


def _labels(path: Path, raw, n: int, label_key: bytes, n_classes: int, expected: str):
    """The labels as int64, or a DataFormatError: integers only (no bools, floats, text)."""
    if isinstance(raw, np.ndarray):
        ok = raw.ndim == 1 and raw.dtype.kind in "iu"
        values = raw if ok else None
    elif isinstance(raw, list):
        ok = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in raw)
        values = raw if ok else None
    else:
        ok, values = False, None
    if not ok:
        raise DataFormatError(path, f"{label_key!r} is not a list of integers", expected)
    if len(values) != n:
        raise DataFormatError(path, f"{len(values)} labels for {n} images", expected)
    try:
        labels = np.array(values, dtype=np.int64)
    except (OverflowError, ValueError, TypeError) as exc:
        raise DataFormatError(path, f"label values outside [0, {n_classes})", expected) from exc
    if labels.min() < 0 or labels.max() >= n_classes:
        raise DataFormatError(path, f"label values outside [0, {n_classes})", expected)
    return labels


def read_cifar_batch(
    path: str | os.PathLike,
    label_key: bytes = b"labels",
    n_classes: int = 10,
    *,
    max_bytes: int = MAX_BATCH_BYTES,
) -> tuple[np.ndarray, np.ndarray]:
    """Read one pickled CIFAR batch (checks: see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The batch file (a protocol-2 pickle of a dict with bytes keys); a regular file.
    label_key : bytes
        ``b"labels"`` (CIFAR-10), ``b"fine_labels"`` or ``b"coarse_labels"`` (CIFAR-100).
    n_classes : int
        Labels must lie in ``[0, n_classes)``.
    max_bytes : int
        Largest file accepted.

    Returns
    -------
    images : np.ndarray
        uint8, shape (N, 32, 32, 3).
    labels : np.ndarray
        int64, shape (N,).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, too large, a truncated, corrupt or disallowed pickle, missing
        keys, or wrong shapes, types or label values.
    """
    path = Path(path)
    expected = f"CIFAR python pickle: dict with b'data' (N, 3072) uint8 and {label_key!r}"
    with open_regular(path, expected) as handle:
        size = file_size(handle)
        if size > max_bytes:
            raise DataFormatError(path, f"size {size} over the limit of {max_bytes}", expected)
        try:
            raw = bytes(read_exact(handle, size))
        except OSError as exc:
            raise DataFormatError(path, f"read error ({exc})", expected) from exc
    try:
        batch = load_restricted(raw)
    except Exception as exc:  # truncated/corrupt pickles raise many kinds of errors
        raise DataFormatError(
            path, f"cannot unpickle ({type(exc).__name__}: {exc})", expected
        ) from exc
    if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
        keys = [repr(k) for k in batch][:10] if isinstance(batch, dict) else type(batch).__name__
        raise DataFormatError(path, f"wrong keys: {keys}", expected)
    data = batch[b"data"]
    if (
        type(data) is not np.ndarray
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != IMAGE_BYTES
        or data.shape[0] < 1
        or not data.flags.c_contiguous
    ):
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", None)
        raise DataFormatError(
            path, f"b'data' is {type(data).__name__} {dtype} {shape}", expected
        )
    if data.nbytes > size:
        raise DataFormatError(
            path, f"b'data' claims {data.nbytes} bytes, more than the file's {size}", expected
        )
    labels = _labels(path, batch[label_key], len(data), label_key, n_classes, expected)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _safe_extract(tar_path: Path, root: Path, folder: str) -> None:
    """Extract ``tar_path`` into ``root`` via a temp dir; refuse members outside ``folder/``,
    links and special files, a member over ``MAX_BATCH_BYTES`` and a total over
    ``MAX_EXTRACT_BYTES`` (from the headers, before anything is written)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=root))
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            total = 0
            for member in tar:  # one header at a time: a bomb is refused before it is read
                total += member.size if member.isfile() else 0
                if member.size > MAX_BATCH_BYTES or total > MAX_EXTRACT_BYTES:
                    raise DataFormatError(
                        tar_path,
                        f"member {member.name!r} of {member.size} bytes (total so far {total})",
                        f"members of at most {MAX_BATCH_BYTES} bytes, {MAX_EXTRACT_BYTES} in all",
                    )
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
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
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
    digest = file_digest(tar_path, "md5")  # a local tarball too: a corrupt one is not extracted
    if digest != remote.md5:
        raise DataFormatError(tar_path, f"md5 {digest}", f"the official tarball, md5 {remote.md5}")
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
