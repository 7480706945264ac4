"""Where the data sets live: ``--data-dir``, else ``$LAVA_THESIS_DATA``, else a user cache dir."""

from __future__ import annotations

import os
from pathlib import Path

from lava_thesis.data.errors import DataFormatError, DataNotFoundError

ENV_VAR = "LAVA_THESIS_DATA"


def default_cache_dir() -> Path:
    """Return the user cache directory for data sets.

    Returns
    -------
    Path
        ``$XDG_CACHE_HOME/lava-thesis/data``, or ``~/.cache/lava-thesis/data`` when
        ``XDG_CACHE_HOME`` is unset. It is not created here.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "lava-thesis" / "data"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Resolve the data root directory.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        An explicit directory (the CLI's ``--data-dir``). It wins over the environment.

    Returns
    -------
    Path
        ``data_dir`` if given, else ``$LAVA_THESIS_DATA`` if set, else :func:`default_cache_dir`
        (which may not exist yet: downloads create it).

    Raises
    ------
    DataNotFoundError
        An explicitly given directory (argument or environment variable) does not exist
        (a ``FileNotFoundError``; the message names the directory and where it came from).
    DataFormatError
        It exists but is not a directory.
    """
    if data_dir is not None and str(data_dir) != "":
        path, source = Path(data_dir).expanduser(), "the data_dir argument (--data-dir)"
    elif os.environ.get(ENV_VAR):
        path, source = Path(os.environ[ENV_VAR]).expanduser(), f"environment variable {ENV_VAR}"
    else:
        return default_cache_dir()
    if not path.exists():
        raise DataNotFoundError(path.parent, [f"{path.name}/"],
                                reason=f"data directory {path} (from {source}) does not exist")
    if not path.is_dir():
        raise DataFormatError(path, f"not a directory (from {source})", "a data directory")
    return path
