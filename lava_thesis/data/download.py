"""Fetch missing data files with a checksum, or say exactly which files to put where."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lava_thesis.atomic import atomic_open
from lava_thesis.data.errors import DataFormatError, DataNotFoundError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """A data file and where to fetch it.

    Parameters
    ----------
    path : str
        Path relative to the data set directory (e.g. ``"t10k-labels-idx1-ubyte.gz"``).
    url : str
        Download URL (``http(s)://`` or ``file://``).
    md5, sha256 : str, optional
        Hex digest of the file as downloaded; at least one is required.
    mirrors : tuple of str
        Further URLs tried, in order, when ``url`` cannot be reached.
    """

    path: str
    url: str
    md5: str | None = None
    sha256: str | None = None
    mirrors: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not (self.md5 or self.sha256):
            raise ValueError(f"RemoteFile {self.path!r} needs an md5 or sha256 checksum")

    def hasher(self) -> Any:
        """Return a fresh hash object of the checksum kind this file carries."""
        return hashlib.sha256() if self.sha256 else hashlib.md5(usedforsecurity=False)

    @property
    def checksum(self) -> str:
        """The expected hex digest (sha256 if given, else md5), lower case."""
        return str(self.sha256 or self.md5).lower()


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """Return the hex digest of a file's contents.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    algorithm : str
        Any :func:`hashlib.new` name (``"md5"``, ``"sha256"``).
    """
    h = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(remote: RemoteFile, url: str, target: Path, timeout: float) -> None:
    """Download ``url`` to ``target`` atomically; a checksum mismatch leaves nothing behind."""
    log.info("downloading %s -> %s", url, target)
    h = remote.hasher()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        with atomic_open(target, "wb") as out:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
            if h.hexdigest() != remote.checksum:
                kind = "sha256" if remote.sha256 else "md5"
                raise DataFormatError(
                    target,
                    f"checksum mismatch for the download from {url}: "
                    f"{kind} {h.hexdigest()} (file removed)",
                    f"{kind} {remote.checksum}",
                )


def ensure_files(
    directory: str | os.PathLike,
    files: Sequence[RemoteFile],
    download: bool = True,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Path]:
    """Make sure every file exists in ``directory``, downloading the missing ones.

    Files already present are not re-verified. A download goes to a temporary file that is
    renamed into place only once its checksum matches.

    Parameters
    ----------
    directory : str or os.PathLike
        The data set directory (created when a download starts).
    files : sequence of RemoteFile
        The files the data set needs.
    download : bool
        Whether missing files may be downloaded.
    timeout : float
        Socket timeout of a download, in seconds.

    Returns
    -------
    list of Path
        The local paths, in the order of ``files``.

    Raises
    ------
    DataNotFoundError
        Files are missing and ``download`` is false or they cannot be fetched; it lists
        every missing file, the directory and the URLs.
    DataFormatError
        A downloaded file has the wrong checksum (the file is removed).
    """
    directory = Path(directory)
    paths = [directory / f.path for f in files]
    missing = [f for f, p in zip(files, paths, strict=True) if not p.is_file()]
    if not missing:
        return paths
    urls = " ".join(f.url for f in missing)
    if not download:
        raise DataNotFoundError(directory, [f.path for f in missing], urls, "download disabled")
    failed: list[RemoteFile] = []
    reasons: list[str] = []
    for remote in missing:
        for url in (remote.url, *remote.mirrors):
            try:
                _fetch(remote, url, directory / remote.path, timeout)
                break
            except (urllib.error.URLError, OSError) as exc:  # unreachable, HTTP error, timeout
                reasons.append(f"{url}: {getattr(exc, 'reason', exc)}")
        else:
            failed.append(remote)
    if failed:
        raise DataNotFoundError(
            directory,
            [f.path for f in failed],
            " ".join(f.url for f in failed),
            "download failed: " + "; ".join(reasons),
        )
    return paths
