"""lava-thesis: energy-efficient, low-latency spiking neural networks on Lava and lava-dl.

Importing this package applies the runtime fixes in :mod:`lava_thesis._compat` that the archived
lava-nc 0.10 / lava-dl 0.6 releases need on Python 3.11 and torch 2.x. Import it before ``lava``.
"""

import time as _time

#: ``time.monotonic()`` when the package was first imported: results files record the seconds
#: since then (``elapsed_s``), the time their command took
STARTED = _time.monotonic()

from lava_thesis import _compat  # noqa: E402  (after STARTED: the fixes take seconds)

_compat.apply()

__version__ = "0.1.0"
__all__ = ["__version__"]
