"""Diehl & Cook (2015), the published reference for the STDP network at each size.

Their Methods train 100, 400, 1,600 and 6,400 excitatory neurons, the larger networks for more
passes over MNIST's 60,000 training images, and report one test accuracy per size. The table
sits outside :mod:`lava_thesis.stdp` so that reading it (``lava-thesis report``) does not
import the numba engine.
"""

from __future__ import annotations

__all__ = ["DIEHL_COOK", "diehl_cook_reference"]

#: Diehl & Cook (2015) by network size: test accuracy (%) and passes over the 60,000 training
#: images (their Methods; larger networks learned longer)
DIEHL_COOK = {100: (82.9, 1), 400: (87.0, 3), 1600: (91.9, 7), 6400: (95.0, 15)}


def diehl_cook_reference(n_exc: int, epochs: int) -> dict | None:
    """Diehl & Cook's accuracy and training passes at ``n_exc`` neurons beside this run's
    ``epochs`` (recorded in the results file), or None for a size they did not train.

    >>> diehl_cook_reference(1600, 7)
    {'n_exc': 1600, 'accuracy_percent': 91.9, 'passes': 7, 'passes_here': 7}
    >>> diehl_cook_reference(800, 1) is None
    True
    """
    if n_exc not in DIEHL_COOK:
        return None
    accuracy, passes = DIEHL_COOK[n_exc]
    return {"n_exc": n_exc, "accuracy_percent": accuracy, "passes": passes,
            "passes_here": epochs}
