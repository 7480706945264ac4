"""The hybrid method's saved network (``<experiment>_hybrid.pt``, written by ``train hybrid``):
loaded with every field checked, and turned into its deployable twin.

The checkpoint holds ``spec``, ``input_shape`` ``(C, H, W)``, ``thresholds`` (one per weight
layer), ``reset``, ``num_steps``, the :class:`~lava_thesis.hybrid.HybridSNN`'s ``state_dict``
and, from runs that chose it, the deployed ``readout`` (``"spikes"`` when absent); it is read
with ``weights_only=True`` (no code runs).
"""

from __future__ import annotations

import math
from pathlib import Path

from lava_thesis.diet.ann import build_ann
from lava_thesis.diet.model import MAX_INPUT, READOUTS, DietSNN, parse_spec
from lava_thesis.errors import ModelFileError
from lava_thesis.hybrid.deploy import lava_twin
from lava_thesis.hybrid.snn import HybridSNN
from lava_thesis.model_check import (
    load_state,
    load_torch,
    require_keys,
    require_range,
    require_steps,
)

EXPECTED = "a hybrid checkpoint (<experiment>_hybrid.pt) written by lava-thesis train hybrid"
KEYS = ("spec", "input_shape", "thresholds", "reset", "num_steps", "state_dict")


def is_hybrid_checkpoint(ckpt: object) -> bool:
    """Whether a loaded checkpoint has the hybrid layout (its ``thresholds`` and ``reset``)."""
    return isinstance(ckpt, dict) and "thresholds" in ckpt and "reset" in ckpt


def load_hybrid(path: str | Path) -> tuple[HybridSNN, list[str], tuple[int, int, int], int]:
    """``(snn, spec, input_shape, num_steps)`` of a hybrid checkpoint
    (:func:`load_hybrid_with_readout`)."""
    return load_hybrid_with_readout(path)[:4]


def load_hybrid_with_readout(path: str | Path
                             ) -> tuple[HybridSNN, list[str], tuple[int, int, int], int, str]:
    """``(snn, spec, input_shape, num_steps, readout)`` of a hybrid checkpoint.

    Raises ``FileNotFoundError`` when ``path`` is missing and
    :class:`~lava_thesis.errors.ModelFileError` naming the file for a missing key, a spec that
    does not parse, a bad input shape, thresholds that are not positive and finite (one per
    weight layer), an unknown reset, steps out of range, an unknown readout, or parameters
    that do not fit."""
    path = Path(path)
    ckpt = require_keys(path, load_torch(path, EXPECTED), KEYS, EXPECTED)
    spec, shape = ckpt["spec"], ckpt["input_shape"]
    if not isinstance(spec, (list, tuple)) or not all(isinstance(s, str) for s in spec):
        raise ModelFileError(path, f"'spec' is {spec!r}, not a list of layer strings", EXPECTED)
    if not isinstance(shape, (list, tuple)) or len(shape) != 3 or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape) \
            or math.prod(shape) > MAX_INPUT:
        raise ModelFileError(path, f"'input_shape' is {shape!r}, not (C, H, W) of positive "
                                   f"ints with at most {MAX_INPUT} values", EXPECTED)
    try:
        layers = parse_spec(spec, tuple(shape))
    except (ValueError, ZeroDivisionError) as err:
        raise ModelFileError(path, f"'spec' {list(spec)} does not parse: {err}",
                             EXPECTED) from err
    n_weights = sum(kind != "flatten" for kind, *_ in layers)
    thresholds = ckpt["thresholds"]
    if not isinstance(thresholds, (list, tuple)) or len(thresholds) != n_weights:
        raise ModelFileError(path, f"'thresholds' must hold {n_weights} numbers (one per "
                                   "weight layer)", EXPECTED)
    require_range(path, "thresholds", thresholds, 0, expected=EXPECTED)
    if min(thresholds) <= 0:
        raise ModelFileError(path, "'thresholds' must be positive", EXPECTED)
    if ckpt["reset"] not in ("hard", "soft"):
        raise ModelFileError(path, f"'reset' is {ckpt['reset']!r}, not hard or soft", EXPECTED)
    steps = require_steps(path, "'num_steps'", ckpt["num_steps"], EXPECTED)
    readout = ckpt.get("readout", "spikes")
    if readout not in READOUTS:
        raise ModelFileError(path, f"'readout' is {readout!r}, not one of {READOUTS}",
                             EXPECTED)
    snn = HybridSNN(build_ann(list(spec), tuple(shape)), [float(t) for t in thresholds],
                    reset=ckpt["reset"])
    load_state(path, snn, ckpt["state_dict"], EXPECTED)
    return snn, list(spec), tuple(shape), steps, readout


def load_hybrid_twin(path: str | Path) -> tuple[DietSNN, int]:
    """The deployable twin (:func:`~lava_thesis.hybrid.deploy.lava_twin`) of a hybrid
    checkpoint, with the checkpoint's readout, and its number of input steps."""
    snn, spec, shape, steps, readout = load_hybrid_with_readout(path)
    return lava_twin(snn, spec, shape, readout=readout), steps
