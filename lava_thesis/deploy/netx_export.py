"""Export SLAYER networks to lava-dl netx ``.net`` files (HDF5).

A netx file holds one group per layer under ``layer/<index>``; each SLAYER block writes its own
group with ``block.export_hdf5(group)``. This module adds the atomic write, a check that every
block can be exported, and refuses non-finite parameters or a written file that netx could not
use.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import h5py
import torch

from lava_thesis.atomic import atomic_path
from lava_thesis.deploy.netx_check import check_netx_file
from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import require_finite_blocks


def export_blocks(blocks: Iterable[torch.nn.Module], path: str | Path) -> Path:
    """Write SLAYER ``blocks`` (in order) as a netx network file at ``path``.

    Parameters
    ----------
    blocks:
        SLAYER blocks (``slayer.block.*``), each with an ``export_hdf5(group)`` method.
    path:
        Destination ``.net`` file; written to a temporary file first, then renamed.

    Raises
    ------
    TypeError
        If a block cannot be exported (no ``export_hdf5`` method), naming its index and type.
    ModelFileError
        If a parameter is NaN or infinite, or the written network would not be valid for
        netx (:func:`lava_thesis.deploy.netx_check.check_netx_file`); nothing is written.
    """
    blocks = list(blocks)
    for i, block in enumerate(blocks):
        if not callable(getattr(block, "export_hdf5", None)):
            raise TypeError(
                f"block {i} ({type(block).__name__}) has no export_hdf5(); netx supports "
                "slayer dense, conv, input and flatten blocks"
            )
        neuron = getattr(block, "neuron", None)
        if neuron is not None and getattr(neuron, "shape", 0) is None:
            raise ValueError(
                f"block {i} ({type(block).__name__}) has no neuron shape yet: SLAYER sets it on "
                "the first forward pass; run one (e.g. on a single time step) before exporting"
            )
    require_finite_blocks(path, blocks)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            layers = handle.create_group("layer")
            for i, block in enumerate(blocks):
                block.export_hdf5(layers.create_group(f"{i}"))
        try:  # what lava-dl will read: finite weights, thresholds > 0, fitting shapes
            check_netx_file(tmp)
        except ModelFileError as err:
            raise ModelFileError(path, f"refusing to export: {err.problem}",
                                 err.expected) from err
    return Path(path)
