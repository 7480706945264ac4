"""The library's user-facing error types, in one place.

Every error that bad input can cause (a data file, a model file, a path argument) is one of
these, and each message names the file and what was expected, so the command line can print
it as one line and exit with code 2.

- :class:`DataFormatError` / :class:`DataNotFoundError`: data files (see ``lava_thesis.data``).
- :class:`ModelFileError`: a saved model (``.h5`` STDP/multimodal network, netx ``.net``,
  ``.pt`` checkpoint, ``.nir`` graph) that is missing pieces, has the wrong dtypes or shapes,
  or holds non-finite or out-of-range values.
"""

from __future__ import annotations

import os
from pathlib import Path

from lava_thesis.data.errors import DataFormatError, DataNotFoundError

__all__ = ["DataFormatError", "DataNotFoundError", "ModelFileError", "USER_ERRORS"]


class ModelFileError(ValueError):
    """A model file cannot be used: it is unreadable, incomplete or holds invalid values.

    Parameters
    ----------
    path : str or os.PathLike
        The offending model file.
    problem : str
        What is wrong (e.g. ``"dataset 'theta' holds NaN"``).
    expected : str
        What a valid file holds (e.g. ``"finite adaptive thresholds"``).

    Examples
    --------
    >>> str(ModelFileError("net.h5", "label 99 out of range", "labels in [-1, 10)"))
    'net.h5: label 99 out of range (expected labels in [-1, 10))'
    """

    def __init__(self, path: str | os.PathLike, problem: str, expected: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.expected = expected
        super().__init__(f"{self.path}: {problem} (expected {expected})")

    def __reduce__(self):
        return (type(self), (self.path, self.problem, self.expected))


#: The error types the command line reports as one line with exit code 2.
USER_ERRORS: tuple[type[BaseException], ...] = (DataFormatError, DataNotFoundError, ModelFileError)
