"""Trained STDP models as HDF5: weights, mask, theta, neuron labels, parameters, model card.

Layout of the file: datasets ``weights`` ``(n_exc, n_input)``, ``mask`` (same shape, 0/1),
``theta`` ``(n_exc,)``, ``assignments`` ``(n_exc,)`` int (-1: never fired); attributes
``params`` (JSON of :class:`~lava_thesis.stdp.STDPParams`), ``card`` (JSON model card) and
``format`` = ``"lava-thesis-stdp-1"``.

Example:
    >>> import tempfile, numpy as np
    >>> from lava_thesis.stdp import STDPNetwork, STDPParams
    >>> net = STDPNetwork(STDPParams(n_input=4, n_exc=2))
    >>> path = save_model(tempfile.mkdtemp() + "/m.h5", net, np.array([3, 7]), {"note": "x"})
    >>> load_model(path)[1]
    array([3, 7])
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from lava_thesis.atomic import atomic_path
from lava_thesis.data.errors import DataFormatError
from lava_thesis.stdp.engine import STDPNetwork
from lava_thesis.stdp.params import STDPParams

FORMAT = "lava-thesis-stdp-1"


def _bad(path: Path, problem: str, expected: str = "an STDP model written by "
         "lava_thesis.stdp.save_model") -> DataFormatError:
    return DataFormatError(path, problem, expected)


def write_network(group: h5py.Group, net: STDPNetwork, assignments: np.ndarray) -> None:
    """Write one network's parameters, weights, mask, theta and neuron labels into ``group``
    (the file root here; one group per ensemble in the multimodal model)."""
    group.attrs["params"] = json.dumps(net.params.to_dict())
    group.create_dataset("weights", data=net.weights, compression="gzip")
    group.create_dataset("mask", data=net.mask.astype(np.uint8), compression="gzip")
    group.create_dataset("theta", data=net.theta)
    group.create_dataset("assignments", data=np.asarray(assignments, np.int64))


def read_network(group: h5py.Group, path: Path,
                 expected: str = "an STDP model written by lava_thesis.stdp.save_model"
                 ) -> tuple[STDPNetwork, np.ndarray]:
    """Read what :func:`write_network` wrote; errors name ``path``, the group and the
    problem (missing datasets, wrong shapes, negative weights, weights on pruned synapses)."""
    where = "" if group.name == "/" else f"group {group.name!r}: "
    missing = [k for k in ("weights", "mask", "theta", "assignments") if k not in group]
    if missing:
        raise _bad(path, f"{where}missing datasets {missing}", expected)
    try:
        params = STDPParams.from_dict(json.loads(group.attrs["params"]))
    except (KeyError, ValueError, TypeError) as err:
        raise _bad(path, f"{where}bad 'params' attribute: {err}", expected) from err
    weights, mask = group["weights"][()], group["mask"][()].astype(np.float64)
    theta, assignments = group["theta"][()], group["assignments"][()]
    shape = (params.n_exc, params.n_input)
    for name, arr, want in (("weights", weights, shape), ("mask", mask, shape),
                            ("theta", theta, (params.n_exc,)),
                            ("assignments", assignments, (params.n_exc,))):
        if arr.shape != want:
            raise _bad(path, f"{where}dataset {name!r} has shape {arr.shape}, expected {want}",
                       expected)
    if not np.isfinite(weights).all() or weights.min() < 0:
        raise _bad(path, f"{where}weights must be finite and >= 0", expected)
    if np.any(weights[mask == 0] != 0):
        raise _bad(path, f"{where}pruned synapses (mask 0) carry non-zero weights", expected)
    net = STDPNetwork(params)
    net.weights, net.mask = weights, mask
    net.theta[:] = theta
    return net, assignments.astype(np.int64)


def open_model(path: Path, fmt: str, what: str, expected: str) -> h5py.File:
    """Open ``path`` for reading and check its ``format`` attribute (clear errors)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what} model file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise _bad(path, f"not an HDF5 file ({err})", expected) from err
    found = f.attrs.get("format")
    if found != fmt:
        f.close()
        raise _bad(path, f"not a lava-thesis {what} model (format attribute {found!r}, "
                         f"expected {fmt!r})", expected)
    return f


def save_model(path: str | Path, net: STDPNetwork, assignments: np.ndarray,
               card: dict) -> Path:
    """Write ``net``'s learned state, the neuron labels and ``card`` to ``path`` (atomic)."""
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["card"] = json.dumps(card, default=float)
        write_network(f, net, assignments)
    return path


def load_model(path: str | Path) -> tuple[STDPNetwork, np.ndarray, dict]:
    """Read a model written by :func:`save_model`: ``(network, assignments, card)``.

    Raises :class:`~lava_thesis.data.DataFormatError` naming the file when it is not such a
    model (missing datasets, wrong shapes, negative weights or weights on pruned synapses).
    """
    path = Path(path)
    expected = "an STDP model written by lava_thesis.stdp.save_model"
    with open_model(path, FORMAT, "STDP", expected) as f:
        net, assignments = read_network(f, path, expected)
        card = json.loads(f.attrs.get("card", "{}"))
    return net, assignments, card
