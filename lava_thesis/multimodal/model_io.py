"""Trained multimodal models as HDF5.

Layout: groups ``image`` and ``audio``, each one ensemble as method 1 writes it
(:func:`lava_thesis.stdp.model_io.write_network`: ``weights``, ``mask``, ``theta``,
``assignments`` = labels from that modality alone, attribute ``params``) plus
``assignments_both`` (labels when both modalities are presented); datasets ``w_image_audio``
``(audio n_exc, image n_exc)`` and ``w_audio_image``; attributes ``cross`` (JSON of
:class:`~lava_thesis.multimodal.params.CrossParams`), ``n_classes`` (labels lie in
``[-1, n_classes)``; 10 when absent), ``card`` and ``format`` = ``"lava-thesis-multimodal-1"``.

:func:`load_pair_model` checks all of it before building the network; a bad file raises
:class:`~lava_thesis.errors.ModelFileError`.

Examples
--------
>>> import tempfile, numpy as np
>>> from lava_thesis.stdp import STDPParams
>>> from lava_thesis.multimodal.engine import MultimodalNetwork
>>> from lava_thesis.multimodal.params import CrossParams
>>> p = STDPParams(n_input=4, n_exc=2)
>>> net = MultimodalNetwork(p, p, CrossParams())
>>> labels = {k: np.array([3, 7]) for k in ("image_alone", "audio_alone", "image_both",
...                                         "audio_both")}
>>> path = save_pair_model(tempfile.mkdtemp() + "/m.h5", net, labels, {"note": "x"})
>>> load_pair_model(path)[1]["audio_both"]
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
    open_h5,
    require_dataset,
    require_group,
    require_json_attr,
    require_params,
    require_range,
)
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp.model_io import (
    N_CLASSES,
    check_format,
    read_card,
    read_labels,
    read_n_classes,
    read_network,
    weight_bound,
    write_network,
)

FORMAT = "lava-thesis-multimodal-1"
EXPECTED = "a multimodal model written by lava_thesis.multimodal.model_io.save_pair_model"
LABEL_KEYS = ("image_alone", "audio_alone", "image_both", "audio_both")


def save_pair_model(path: str | Path, net: MultimodalNetwork, labels: dict[str, np.ndarray],
                    card: dict, n_classes: int = N_CLASSES) -> Path:
    """Write both ensembles, the cross-modal weights, the neuron labels (keys
    ``image_alone``, ``audio_alone``, ``image_both``, ``audio_both``; values in
    ``[-1, n_classes)``) and ``card`` (atomic)."""
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["n_classes"] = int(n_classes)
        f.attrs["cross"] = json.dumps(net.cross.to_dict())
        f.attrs["card"] = json.dumps(card, default=float)
        for tag, ens in (("image", net.image), ("audio", net.audio)):
            group = f.create_group(tag)
            write_network(group, ens, labels[f"{tag}_alone"])
            group.create_dataset("assignments_both",
                                 data=np.asarray(labels[f"{tag}_both"], np.int64))
        f.create_dataset("w_image_audio", data=net.w_image_audio, compression="gzip")
        f.create_dataset("w_audio_image", data=net.w_audio_image, compression="gzip")
    return path


def load_pair_model(path: str | Path
                    ) -> tuple[MultimodalNetwork, dict[str, np.ndarray], dict]:
    """Read a model written by :func:`save_pair_model`: ``(network, labels, card)``.

    Each ensemble is checked as :func:`lava_thesis.stdp.model_io.read_network` checks a
    method-1 model; ``cross`` must be valid, finite :class:`CrossParams`; the cross-modal
    weights ``(audio n_exc, image n_exc)`` / ``(image n_exc, audio n_exc)`` finite in
    ``[0, max(w_max, norm_total, w_init)]`` (they only excite); the ``assignments_both``
    labels in ``[-1, n_classes)``. Raises ``FileNotFoundError`` when ``path`` is missing and
    :class:`~lava_thesis.errors.ModelFileError` naming the file (and group) otherwise.
    """
    path = Path(path)
    with open_h5(path, EXPECTED) as f:
        check_format(f, path, FORMAT, "multimodal", EXPECTED)
        n_classes = read_n_classes(f, path, EXPECTED)
        cross = require_params(path, "cross", require_json_attr(f, "cross", path, EXPECTED),
                               CrossParams, EXPECTED)
        ensembles, labels = {}, {}
        for tag in ("image", "audio"):
            group = require_group(f, tag, path, EXPECTED)
            ensembles[tag], labels[f"{tag}_alone"] = read_network(group, path, EXPECTED,
                                                                  n_classes)
            labels[f"{tag}_both"] = read_labels(group, "assignments_both", path,
                                                ensembles[tag].params.n_exc, n_classes,
                                                EXPECTED)
        pi, pa = ensembles["image"].params, ensembles["audio"].params
        if (pi.present_steps, pi.rest_steps) != (pa.present_steps, pa.rest_steps):
            raise ModelFileError(path, "image and audio params differ in present_steps / "
                                       "rest_steps", "one presentation length for both "
                                       "ensembles")
        ni, na = pi.n_exc, pa.n_exc
        w_ia = require_dataset(f, "w_image_audio", path, EXPECTED, kinds="fiu", shape=(na, ni))
        w_ai = require_dataset(f, "w_audio_image", path, EXPECTED, kinds="fiu", shape=(ni, na))
        card = read_card(f, path, EXPECTED)
    bound = weight_bound(cross.w_max, cross.norm_total, cross.w_init)
    for name, arr in (("w_image_audio", w_ia), ("w_audio_image", w_ai)):
        require_range(path, f"dataset {name!r}", arr, 0, bound,
                      expected=f"finite cross-modal weights in [0, {bound:g}] (they only "
                               "excite)")
    net = MultimodalNetwork(ensembles["image"].params, ensembles["audio"].params, cross)
    net.image, net.audio = ensembles["image"], ensembles["audio"]
    net.w_image_audio, net.w_audio_image = w_ia.astype(np.float64), w_ai.astype(np.float64)
    return net, labels, card
