"""Errors raised by the data loaders.

Both carry the offending path, so a message always says which file or directory to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class DataFormatError(ValueError):
    """A data file exists but is not in the format its loader expects.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    problem : str
        What is wrong with it (e.g. ``"truncated: 12 of 784 bytes"``).
    expected : str
        The format the loader expects (e.g. ``"IDX file (gzipped or not)"``).
    """

    def __init__(self, path: str | os.PathLike, problem: str, expected: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.expected = expected
        super().__init__(f"{self.path}: {problem} (expected {expected})")

    def __reduce__(self):  # keep pickling (e.g. DataLoader workers) working
        return (type(self), (self.path, self.problem, self.expected))


class DataNotFoundError(FileNotFoundError):
    """Data files are missing; the message says which files to put in which directory.

    Parameters
    ----------
    directory : str or os.PathLike
        The directory the files belong in.
    missing : iterable of str
        File (or folder) names, relative to ``directory``.
    url : str, optional
        Where the files can be downloaded from.
    reason : str, optional
        Why they are not there (e.g. the download error).
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        missing: Iterable[str],
        url: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.missing = [str(m) for m in missing]
        self.url = url
        self.reason = reason
        msg = f"missing data: put {', '.join(self.missing)} into {self.directory}"
        if url:
            msg += f" (download from {url})"
        if reason:
            msg += f"; {reason}"
        super().__init__(msg)
        self.filename = str(self.directory)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):
        return (type(self), (self.directory, self.missing, self.url, self.reason))
