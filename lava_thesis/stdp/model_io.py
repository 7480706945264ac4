"""Trained STDP models as HDF5: weights, mask, theta, neuron labels, parameters, model card.

Layout of the file: datasets ``weights`` ``(n_exc, n_input)``, ``mask`` (same shape, 0/1),
``theta`` ``(n_exc,)``, ``assignments`` ``(n_exc,)`` int (-1: never fired); attributes
``params`` (JSON of :class:`~lava_thesis.stdp.STDPParams`), ``n_classes`` (the labels lie in
``[-1, n_classes)``; 10 when absent), ``card`` (JSON model card) and ``format`` =
``"lava-thesis-stdp-1"``.

:func:`load_model` checks all of it before building the network (see
:func:`read_network`); a bad file raises :class:`~lava_thesis.errors.ModelFileError`.

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
from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import (
    MAX_STEPS,
    open_h5,
    require_dataset,
    require_json_attr,
    require_params,
    require_range,
    require_scalar,
    require_values,
)
from lava_thesis.stdp.engine import STDPNetwork
from lava_thesis.stdp.params import STDPParams

FORMAT = "lava-thesis-stdp-1"
EXPECTED = "an STDP model written by lava_thesis.stdp.save_model"
#: the number of classes of every data set in this library (MNIST, Fashion-MNIST, FSDD)
N_CLASSES = 10
#: the most presentations of one sample a model may ask for (the default is 5)
MAX_PRESENTATIONS = 100


def write_network(group: h5py.Group, net: STDPNetwork, assignments: np.ndarray) -> None:
    """Write one network's parameters, weights, mask, theta and neuron labels into ``group``
    (the file root here; one group per ensemble in the multimodal model)."""
    group.attrs["params"] = json.dumps(net.params.to_dict())
    group.create_dataset("weights", data=net.weights, compression="gzip")
    group.create_dataset("mask", data=net.mask.astype(np.uint8), compression="gzip")
    group.create_dataset("theta", data=net.theta)
    group.create_dataset("assignments", data=np.asarray(assignments, np.int64))


def weight_bound(w_max: float, norm_total: float, w_init: float) -> float:
    """The largest weight learning can produce: the STDP update clips to ``w_max``, but the
    row normalisation that follows scales a row to sum to ``norm_total``, which can lift a
    weight above ``w_max`` (never above ``norm_total``, all weights being >= 0)."""
    return max(w_max, norm_total, w_init)


def read_labels(group: h5py.Group, name: str, path: Path, n: int, n_classes: int,
                expected: str = EXPECTED) -> np.ndarray:
    """The integer neuron labels ``group[name]``: shape ``(n,)``, values in
    ``[-1, n_classes)`` (-1: the neuron never fired)."""
    labels = require_dataset(group, name, path, expected, kinds="iu", shape=(n,))
    where = f"{group.name.rstrip('/')}/{name}".lstrip("/")
    require_range(path, f"dataset {where!r}", labels, -1, n_classes, hi_open=True,
                  expected=f"neuron labels in [-1, {n_classes})")
    return labels.astype(np.int64)


def read_n_classes(f: h5py.File, path: Path, expected: str = EXPECTED) -> int:
    """The file's ``n_classes`` attribute (>= 1), :data:`N_CLASSES` when it has none."""
    if "n_classes" not in f.attrs:
        return N_CLASSES
    return int(require_scalar(path, "attribute 'n_classes'", f.attrs["n_classes"], expected,
                              lo=1, integer=True))


def read_network(group: h5py.Group, path: Path, expected: str = EXPECTED,
                 n_classes: int = N_CLASSES) -> tuple[STDPNetwork, np.ndarray]:
    """Read and check what :func:`write_network` wrote.

    Checked, each failure a :class:`~lava_thesis.errors.ModelFileError` naming ``path``, the
    dataset and the problem: ``params`` is JSON of valid, finite :class:`STDPParams` with at
    most :data:`~lava_thesis.model_check.MAX_STEPS` steps and :data:`MAX_PRESENTATIONS`
    presentations per sample, ``theta_decay <= 1`` and refractory periods >= 1;
    ``weights`` and ``mask`` are ``(n_exc, n_input)``, ``theta`` and ``assignments``
    ``(n_exc,)``; weights are finite in ``[0, max(w_max, norm_total, w_init_max)]`` (see
    :func:`weight_bound`) and zero where the mask is 0; the mask holds only 0 and 1; theta is
    finite and >= 0; labels lie in ``[-1, n_classes)``.
    """
    where = "" if group.name == "/" else f"{group.name.lstrip('/')}/"
    params = require_params(path, f"{where}params", require_json_attr(group, "params", path,
                                                                      expected),
                            STDPParams, expected)
    if params.sample_steps > MAX_STEPS or params.max_presentations > MAX_PRESENTATIONS:
        raise ModelFileError(path, f"{where}params ask for {params.sample_steps} steps and up "
                                   f"to {params.max_presentations} presentations per sample",
                             f"present_steps + rest_steps <= {MAX_STEPS} and "
                             f"max_presentations <= {MAX_PRESENTATIONS}")
    if params.theta_decay > 1 or min(params.exc_refractory, params.inh_refractory) < 1:
        raise ModelFileError(path, f"{where}params have theta_decay {params.theta_decay:g}, "
                                   f"refractory periods {params.exc_refractory} / "
                                   f"{params.inh_refractory}",
                             "theta_decay in [0, 1] and refractory periods >= 1 (Lava's "
                             "neurons refuse others)")
    shape = (params.n_exc, params.n_input)
    weights = require_dataset(group, "weights", path, expected, kinds="fiu", shape=shape)
    mask = require_dataset(group, "mask", path, expected, kinds="fiub", shape=shape)
    theta = require_dataset(group, "theta", path, expected, kinds="fiu", shape=(params.n_exc,))
    assignments = read_labels(group, "assignments", path, params.n_exc, n_classes, expected)
    bound = weight_bound(params.w_max, params.norm_total, params.w_init_max)
    require_range(path, f"dataset '{where}weights'", weights, 0, bound,
                  expected=f"finite weights in [0, {bound:g}] (w_max, or the row-normalised "
                           "total)")
    require_values(path, f"dataset '{where}mask'", mask, (0, 1), "a 0/1 mask")
    require_range(path, f"dataset '{where}theta'", theta, 0,
                  expected="finite adaptive thresholds >= 0")
    mask = mask.astype(np.float64)
    if np.any(weights[mask == 0] != 0):
        raise ModelFileError(path, f"{where}pruned synapses (mask 0) carry non-zero weights",
                             expected)
    net = STDPNetwork(params)
    net.weights, net.mask = weights.astype(np.float64), mask
    net.theta[:] = theta
    return net, assignments


def check_format(f: h5py.File, path: Path, fmt: str, what: str, expected: str) -> None:
    """The file's ``format`` attribute is ``fmt``."""
    found = f.attrs.get("format")
    if not isinstance(found, str) or found != fmt:
        raise ModelFileError(path, f"not a lava-thesis {what} model (format attribute "
                                   f"{found!r}, expected {fmt!r})", expected)


def read_card(f: h5py.File, path: Path, expected: str) -> dict:
    """The ``card`` attribute (JSON object; empty when absent)."""
    if "card" not in f.attrs:
        return {}
    return require_json_attr(f, "card", path, expected)


def save_model(path: str | Path, net: STDPNetwork, assignments: np.ndarray,
               card: dict, n_classes: int = N_CLASSES) -> Path:
    """Write ``net``'s learned state, the neuron labels (in ``[-1, n_classes)``) and ``card``
    to ``path`` (atomic)."""
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["n_classes"] = int(n_classes)
        f.attrs["card"] = json.dumps(card, default=float)
        write_network(f, net, assignments)
    return path


def load_model(path: str | Path) -> tuple[STDPNetwork, np.ndarray, dict]:
    """Read a model written by :func:`save_model`: ``(network, assignments, card)``.

    Raises ``FileNotFoundError`` when ``path`` is missing and
    :class:`~lava_thesis.errors.ModelFileError` naming the file when it is not a valid model
    (not HDF5, truncated, missing datasets, wrong dtypes or shapes, non-finite or
    out-of-range values: see :func:`read_network`).
    """
    path = Path(path)
    with open_h5(path, EXPECTED) as f:
        check_format(f, path, FORMAT, "STDP", EXPECTED)
        net, assignments = read_network(f, path, EXPECTED, read_n_classes(f, path))
        card = read_card(f, path, EXPECTED)
    return net, assignments, card
