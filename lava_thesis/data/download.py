"""Fetch missing data files with a checksum, or say exactly which files to put where.

A download is written to ``<file>.part`` beside its target, checked, and only then renamed onto
the target, so a target file is always complete and verified. A transfer that breaks off keeps
its ``.part``; the next call asks the server for the rest (an HTTP ``Range: bytes=<size>-``
request) and, if the server ignores the range and sends the whole file, starts over cleanly.
A file whose checksum does not match is deleted, never left in place. Progress is shown with
:mod:`tqdm` (imported only when a download starts); ``TQDM_DISABLE=1`` switches it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lava_thesis.data.errors import DataFormatError, DataNotFoundError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
USER_AGENT = "lava-thesis-data-download"
_CHUNK = 1 << 16
# What a failed transfer can raise: unreachable host, HTTP error, timeout, broken connection.
NETWORK_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException)


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
        Hex digest of the file as downloaded; at least one is required (sha256 wins when both
        are given; md5 is supported for sources that publish nothing else).
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

    @property
    def algorithm(self) -> str:
        """``"sha256"`` if the file carries one, else ``"md5"``."""
        return "sha256" if self.sha256 else "md5"

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
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class IncompleteDownloadError(OSError):
    """The connection closed before the announced number of bytes arrived (``.part`` kept)."""


def part_path(target: str | os.PathLike) -> Path:
    """The partial-download file of ``target``: ``<target>.part`` in the same folder."""
    target = Path(target)
    return target.with_name(target.name + ".part")


def _tqdm_disabled() -> bool:
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def _progress(total: int | None, initial: int, desc: str) -> Iterator[Any]:
    """A tqdm byte counter (or a silent stand-in when tqdm is missing or disabled)."""
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency; stay quiet rather than fail without it
        tqdm = None
    if tqdm is None or _tqdm_disabled():
        yield type("_Silent", (), {"update": staticmethod(lambda n: None)})()
        return
    # disable=False explicitly: tqdm reads TQDM_* into its defaults once, when it is imported
    with tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True,
              unit_divisor=1024, leave=False, disable=False) as bar:
        yield bar


def _open(url: str, offset: int, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (pinned URLs)


def _resumes_at(response: Any, offset: int) -> bool:
    """Whether ``response`` is a 206 answer whose body starts at byte ``offset``."""
    if getattr(response, "status", None) != 206:
        return False
    content_range = response.headers.get("Content-Range", "")  # "bytes 100-999/1000"
    start = content_range.removeprefix("bytes ").split("-", 1)[0].strip()
    return start.isdigit() and int(start) == offset


def fetch(
    url: str,
    target: str | os.PathLike,
    algorithm: str | None = None,
    checksum: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    part: str | os.PathLike | None = None,
) -> Path:
    """Download ``url`` to ``target`` via ``<target>.part``, resuming an existing ``.part``.

    Parameters
    ----------
    url : str
        ``http(s)://`` or ``file://`` URL.
    target : str or os.PathLike
        Final path; its folder is created.
    algorithm, checksum : str, optional
        :func:`hashlib.new` name and expected hex digest of the whole file. Without them the
        file is taken as it comes (the caller verifies its contents, e.g. an archive's members).
    timeout : float
        Socket timeout, in seconds.
    part : str or os.PathLike, optional
        The partial-download file (default :func:`part_path` of ``target``).

    Returns
    -------
    Path
        ``target``, complete and verified.

    Raises
    ------
    urllib.error.URLError, OSError, http.client.HTTPException
        The transfer failed; a partial ``.part`` is kept for the next call to resume.
    DataFormatError
        The checksum does not match; the ``.part`` is deleted.
    """
    target = Path(target)
    part = part_path(target) if part is None else Path(part)
    offset = part.stat().st_size if part.is_file() else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not offset:
            raise
        exc.close()  # 416: the .part is not a prefix of the file any more; start over
        offset, response = 0, _open(url, 0, timeout)
    with response:
        target.parent.mkdir(parents=True, exist_ok=True)
        resumed = offset > 0 and _resumes_at(response, offset)
        if offset and not resumed:
            log.info("%s ignored the range request; downloading %s from the start", url, target)
            offset = 0
        h = hashlib.new(algorithm, usedforsecurity=False) if algorithm else None
        if h is not None and resumed:
            with open(part, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    h.update(chunk)
        length = response.headers.get("Content-Length", "")
        total = offset + int(length) if length.strip().isdigit() else None
        log.info("downloading %s -> %s (from byte %d)", url, target, offset)
        with open(part, "ab" if resumed else "wb") as out, \
                _progress(total, offset, target.name) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                if h is not None:
                    h.update(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    if total is not None and size != total:
        raise IncompleteDownloadError(
            f"connection closed after {size} of {total} bytes; {part} is kept and the next "
            "call resumes it"
        )
    if h is not None and checksum is not None and h.hexdigest() != checksum.lower():
        part.unlink()
        raise DataFormatError(
            target,
            f"checksum mismatch for the download from {url}: {algorithm} {h.hexdigest()} "
            "(file removed)",
            f"{algorithm} {checksum.lower()}",
        )
    os.replace(part, target)
    return target


def describe_error(exc: BaseException) -> str:
    """A short reason for a failed transfer (``HTTP 404 Not Found``, ``Connection refused``)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    return str(getattr(exc, "reason", None) or exc)


def fetch_any(
    urls: Sequence[str],
    target: Path,
    algorithm: str | None,
    checksum: str | None,
    timeout: float,
) -> str | None:
    """Try ``urls`` in order until one downloads; return ``None`` or the reasons all failed."""
    reasons: list[str] = []
    for url in urls:
        try:
            fetch(url, target, algorithm, checksum, timeout=timeout)
            return None
        except NETWORK_ERRORS as exc:
            reasons.append(f"{url}: {describe_error(exc)}")
    return "; ".join(reasons)


def ensure_files(
    directory: str | os.PathLike,
    files: Sequence[RemoteFile],
    download: bool = True,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Path]:
    """Make sure every file exists in ``directory``, downloading the missing ones.

    Files already present are not re-verified. A download goes to ``<file>.part`` (resumed if
    it exists, see :func:`fetch`) that is renamed into place only once its checksum matches.

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
    if not download:
        urls = " ".join(f.url for f in missing)
        raise DataNotFoundError(directory, [f.path for f in missing], urls, "download disabled")
    failed: list[RemoteFile] = []
    reasons: list[str] = []
    for remote in missing:
        reason = fetch_any((remote.url, *remote.mirrors), directory / remote.path,
                           remote.algorithm, remote.checksum, timeout)
        if reason is not None:
            failed.append(remote)
            reasons.append(reason)
    if failed:
        raise DataNotFoundError(
            directory,
            [f.path for f in failed],
            " ".join(f.url for f in failed),
            "download failed: " + "; ".join(reasons),
        )
    return paths
