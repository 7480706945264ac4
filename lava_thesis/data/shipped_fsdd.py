"""A small real FSDD subset shipped inside the package, so the multimodal demo runs offline.

``shipped/fsdd/recordings/`` holds 180 of the 3,000 Free Spoken Digit Dataset recordings
(Jakobovski et al.; CC BY-SA 4.0), byte for byte: takes 0 (FSDD's standard test split) and 5-6
(training split) of all 6 speakers and 10 digits. :func:`shipped_fsdd_root` is a data root in
the layout :func:`lava_thesis.data.fsdd.load_fsdd` reads (``<root>/fsdd/recordings``), so the
standard split applies unchanged: 60 test and 120 training utterances.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lava_thesis.atomic import atomic_path
from lava_thesis.data.fsdd import load_fsdd

SHIPPED_ROOT = Path(__file__).with_name("shipped")
TAKES = (0, 5, 6)


def shipped_fsdd_root() -> Path:
    """The data root of the shipped subset (pass it as ``data_dir``)."""
    return SHIPPED_ROOT


def build_shipped_fsdd(data_dir: str | Path | None = None, root: str | Path = SHIPPED_ROOT,
                       takes: tuple[int, ...] = TAKES) -> int:
    """Copy the recordings with the given take indices from the full FSDD in ``data_dir``
    into ``<root>/fsdd/recordings``; returns how many were copied.

    The source recordings are listed and checked by :func:`lava_thesis.data.fsdd.load_fsdd`
    (regular files with parsing, unique names), so a FIFO or device is never copied from.
    """
    target = Path(root) / "fsdd" / "recordings"
    target.mkdir(parents=True, exist_ok=True)
    chosen = [r for r in load_fsdd("all", data_dir) if r.index in takes]
    for rec in chosen:  # load_fsdd checked they are regular files; copy each atomically
        with atomic_path(target / rec.path.name) as tmp:
            shutil.copyfile(rec.path, tmp)
    return len(chosen)
