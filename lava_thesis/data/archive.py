"""Data sets that come as a zip archive: download it, extract the wanted members safely, verify.

Extraction refuses absolute paths, ``..`` components, backslashes and links, caps the size of
every member and of the whole extraction, goes to a temporary folder beside the target, and
moves the files into place only once they are verified. An archive's bytes can be checked
(md5/sha256 of the archive) and so can its contents: a SHA-256 per named member, and/or one
SHA-256 over a manifest of all extracted files (see :func:`manifest_sha256`), and a file count.
The contents checks serve archives whose bytes are not stable (GitHub regenerates its
archives) or whose checksum is unknown.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lava_thesis.data.download import DEFAULT_TIMEOUT, NETWORK_ERRORS, describe_error, fetch
from lava_thesis.data.errors import DataFormatError, DataNotFoundError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveSource:
    """A zip archive and the folder of files extracted from it.

    Parameters
    ----------
    path : str
        Archive file name, relative to the data set directory.
    url : str
        Download URL; ``mirrors`` are tried after it.
    folder : str
        Folder, relative to the data set directory, that receives the extracted files.
    contents : str
        What the folder holds, for messages (``"{digit}_{speaker}_{index}.wav files"``).
    member_glob : str
        :func:`fnmatch.fnmatchcase` pattern (``*`` also matches ``/``) on a member's path in
        the archive; matching members are extracted, others are ignored. macOS resource
        members (``__MACOSX/``, ``._*``) are always ignored.
    keep : int
        How many trailing path components of a member are kept below ``folder``
        (1: ``a/b/x.wav`` -> ``x.wav``; 2: ``Train/3/x.bin`` -> ``3/x.bin``).
    md5, sha256 : str, optional
        Checksum of the archive file itself.
    members : tuple of (str, str)
        ``(name, sha256)`` of files that must be extracted, ``name`` relative to ``folder``.
    manifest : str, optional
        SHA-256 of the manifest of all extracted files (:func:`manifest_sha256`).
    count : int, optional
        Number of files the extraction must produce.
    page : str
        The data set's web page, for messages.
    mirrors : tuple of str
        Further download URLs.
    max_file_bytes, max_total_bytes : int
        Largest member and largest total extraction accepted.
    """

    path: str
    url: str
    folder: str
    contents: str
    member_glob: str
    keep: int = 1
    md5: str | None = None
    sha256: str | None = None
    members: tuple[tuple[str, str], ...] = ()
    manifest: str | None = None
    count: int | None = None
    page: str = ""
    mirrors: tuple[str, ...] = field(default=())
    max_file_bytes: int = 64 << 20
    max_total_bytes: int = 1 << 30

    def __post_init__(self) -> None:
        if not (self.md5 or self.sha256 or self.members or self.manifest):
            raise ValueError(f"ArchiveSource {self.path!r} needs an archive checksum, member "
                             "checksums or a manifest checksum")
        if self.keep < 1:
            raise ValueError(f"keep must be >= 1, got {self.keep}")

    @property
    def where(self) -> str:
        """The download URL and the data set's page, for messages."""
        return f"{self.url} ({self.page})" if self.page else self.url


def manifest_sha256(digests: Mapping[str, str]) -> str:
    """SHA-256 of the manifest of a set of files.

    The manifest is one line ``"<name> <sha256 of the file>\\n"`` per file, sorted by name
    (names relative to the extraction folder, ``/``-separated), encoded as UTF-8.

    Parameters
    ----------
    digests : mapping of str to str
        File name -> SHA-256 hex digest of its contents.
    """
    text = "".join(f"{name} {digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _url_tag(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _is_junk(parts: tuple[str, ...]) -> bool:
    return "__MACOSX" in parts or parts[-1].startswith("._")


def _select(zf: zipfile.ZipFile, archive: Path, source: ArchiveSource):
    """Check every member; return ``(info, relative output path)`` of those to extract."""
    expected = f"a zip archive of {source.contents}"
    chosen: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    seen: set[PurePosixPath] = set()
    total = 0
    for info in zf.infolist():
        name = info.filename
        parts = PurePosixPath(name).parts
        if (not parts or name.startswith("/") or "\\" in name or ".." in parts
                or ":" in parts[0] or _is_link(info)):
            raise DataFormatError(archive, f"unsafe member {name!r}", expected)
        if info.is_dir() or _is_junk(parts) or len(parts) < source.keep:
            continue
        if not fnmatch.fnmatchcase(name, source.member_glob):
            continue
        rel = PurePosixPath(*parts[-source.keep:])
        if rel in seen:
            raise DataFormatError(archive, f"two members extract to {rel}", expected)
        if info.file_size > source.max_file_bytes:
            raise DataFormatError(archive, f"member {name!r} is {info.file_size} bytes",
                                  f"members of at most {source.max_file_bytes} bytes")
        total += info.file_size
        if total > source.max_total_bytes:
            raise DataFormatError(archive, f"more than {source.max_total_bytes} bytes to extract",
                                  expected)
        seen.add(rel)
        chosen.append((info, rel))
    return chosen


def _extract(archive: Path, tmp: Path, source: ArchiveSource) -> dict[str, str]:
    """Extract the selected members into ``tmp``; return name -> SHA-256."""
    digests: dict[str, str] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            for info, rel in _select(zf, archive, source):
                dest = tmp.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                with zf.open(info) as src, open(dest, "wb") as out:
                    for chunk in iter(lambda: src.read(_CHUNK), b""):  # bounded by file_size
                        h.update(chunk)
                        out.write(chunk)
                digests[rel.as_posix()] = h.hexdigest()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            OSError) as exc:
        raise DataFormatError(archive, f"cannot extract ({exc})", "a zip archive") from exc
    return digests


def _verify(archive: Path, source: ArchiveSource, digests: Mapping[str, str]) -> None:
    for name, sha in source.members:
        if name not in digests:
            raise DataFormatError(archive, f"has no member {name}", f"a zip archive with {name}")
        if digests[name] != sha.lower():
            raise DataFormatError(archive, f"{name} has sha256 {digests[name]}", f"sha256 {sha}")
    if source.count is not None and len(digests) != source.count:
        raise DataFormatError(archive, f"{len(digests)} files match {source.member_glob!r}",
                              f"{source.count} files")
    if source.manifest is not None:
        got = manifest_sha256(digests)
        if got != source.manifest.lower():
            raise DataFormatError(archive, f"the {len(digests)} extracted files have manifest "
                                  f"sha256 {got}", f"manifest sha256 {source.manifest}")


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` onto ``out``; into an existing non-empty ``out`` move only new files."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.replace(tmp, out)
        return
    for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
        dest = out / src.relative_to(tmp)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)


def extract_verified(archive: str | os.PathLike, out: str | os.PathLike,
                     source: ArchiveSource) -> Path:
    """Extract ``source``'s members of ``archive`` into ``out`` once they verify.

    Files already in ``out`` are kept; nothing is written to ``out`` if a check fails.

    Raises
    ------
    DataFormatError
        An unsafe or oversized member, a corrupt archive, or a failed contents check.
    """
    archive, out = Path(archive), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes 0700; the renamed folder gets the usual
        digests = _extract(archive, tmp, source)
        _verify(archive, source, digests)
        _move_into_place(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def ensure_archive(
    directory: str | os.PathLike,
    source: ArchiveSource,
    download: bool = True,
    *,
    missing: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Fill ``<directory>/<source.folder>`` from the archive, downloading it if needed.

    An archive already in ``directory`` is used as it is (a manual download works offline).
    Otherwise the URL and then each mirror is tried until one gives an archive that passes
    every check. A downloaded archive is deleted after extraction, and also when it fails a
    check (so a bad file is never left in place); a partial download stays as ``.part`` and
    the next call resumes it (see :func:`~lava_thesis.data.download.fetch`).

    Parameters
    ----------
    directory : str or os.PathLike
        The data set directory.
    source : ArchiveSource
        The archive and how to verify it.
    download : bool
        Whether the archive may be downloaded.
    missing : sequence of str, optional
        The files the caller lacks, named in a :class:`DataNotFoundError` (default:
        ``source.contents``).
    timeout : float
        Socket timeout, in seconds.

    Returns
    -------
    Path
        ``<directory>/<source.folder>``.

    Raises
    ------
    DataNotFoundError
        The archive is not there and ``download`` is false or it cannot be fetched.
    DataFormatError
        The archive or its contents fail a check.
    """
    directory = Path(directory)
    out, archive = directory / source.folder, directory / source.path
    names = list(missing) if missing else [source.contents]
    if archive.is_file():
        return extract_verified(archive, out, source)
    alternative = f"or put {source.path} into {directory}"
    if not download:
        raise DataNotFoundError(out, names, source.where, f"download disabled ({alternative})")
    algorithm = "sha256" if source.sha256 else "md5" if source.md5 else None
    reasons: list[str] = []
    bad: DataFormatError | None = None
    for url in (source.url, *source.mirrors):  # a mirror is tried after any failure
        # Unpinned bytes (no archive checksum) may differ between URLs: one .part per URL.
        part = None if algorithm else archive.with_name(f"{archive.name}.{_url_tag(url)}.part")
        try:
            fetch(url, archive, algorithm, source.sha256 or source.md5, timeout=timeout,
                  part=part)
        except NETWORK_ERRORS as exc:
            reasons.append(f"{url}: {describe_error(exc)}")
            continue
        except DataFormatError as exc:
            bad = bad or exc
            continue
        try:
            return extract_verified(archive, out, source)
        except DataFormatError as exc:
            bad = bad or exc
        finally:
            archive.unlink(missing_ok=True)  # extracted, or bad: never left in place
    if bad is not None:
        raise bad
    raise DataNotFoundError(out, names, source.where,
                            f"download failed ({alternative}): {'; '.join(reasons)}")
