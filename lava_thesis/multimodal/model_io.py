"""Trained multimodal models as HDF5.

Layout: groups ``image`` and ``audio``, each one ensemble as method 1 writes it
(:func:`lava_thesis.stdp.model_io.write_network`: ``weights``, ``mask``, ``theta``,
``assignments`` = labels from that modality alone, attribute ``params``) plus
``assignments_both`` (labels when both modalities are presented); datasets ``w_image_audio``
``(audio n_exc, image n_exc)`` and ``w_audio_image``; attributes ``cross`` (JSON of
:class:`~lava_thesis.multimodal.params.CrossParams`), ``card`` and ``format`` =
``"lava-thesis-multimodal-1"``.

Example:
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
from lava_thesis.data.errors import DataFormatError
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp.model_io import open_model, read_network, write_network

FORMAT = "lava-thesis-multimodal-1"
EXPECTED = "a multimodal model written by lava_thesis.multimodal.model_io.save_pair_model"
LABEL_KEYS = ("image_alone", "audio_alone", "image_both", "audio_both")


def save_pair_model(path: str | Path, net: MultimodalNetwork, labels: dict[str, np.ndarray],
                    card: dict) -> Path:
    """Write both ensembles, the cross-modal weights, the neuron labels (keys
    ``image_alone``, ``audio_alone``, ``image_both``, ``audio_both``) and ``card`` (atomic)."""
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
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

    Raises :class:`~lava_thesis.data.DataFormatError` naming the file (and group) when it is
    not such a model.
    """
    path = Path(path)

    def bad(problem: str) -> DataFormatError:
        return DataFormatError(path, problem, EXPECTED)

    with open_model(path, FORMAT, "multimodal", EXPECTED) as f:
        missing = [k for k in ("image", "audio", "w_image_audio", "w_audio_image") if k not in f]
        if missing:
            raise bad(f"missing {missing}")
        try:
            cross = CrossParams.from_dict(json.loads(f.attrs["cross"]))
        except (KeyError, ValueError, TypeError) as err:
            raise bad(f"bad 'cross' attribute: {err}") from err
        ensembles, labels = {}, {}
        for tag in ("image", "audio"):
            ensembles[tag], labels[f"{tag}_alone"] = read_network(f[tag], path, EXPECTED)
            if "assignments_both" not in f[tag]:
                raise bad(f"group '/{tag}': missing dataset 'assignments_both'")
            labels[f"{tag}_both"] = f[tag]["assignments_both"][()].astype(np.int64)
        w_ia, w_ai = f["w_image_audio"][()], f["w_audio_image"][()]
        card = json.loads(f.attrs.get("card", "{}"))
    ni, na = ensembles["image"].params.n_exc, ensembles["audio"].params.n_exc
    for name, arr, shape in (("w_image_audio", w_ia, (na, ni)), ("w_audio_image", w_ai, (ni, na)),
                             ("image/assignments_both", labels["image_both"], (ni,)),
                             ("audio/assignments_both", labels["audio_both"], (na,))):
        if arr.shape != shape:
            raise bad(f"dataset {name!r} has shape {arr.shape}, expected {shape}")
    if not (np.isfinite(w_ia).all() and np.isfinite(w_ai).all()) or min(w_ia.min(),
                                                                        w_ai.min()) < 0:
        raise bad("cross-modal weights must be finite and >= 0 (they only excite)")
    net = MultimodalNetwork(ensembles["image"].params, ensembles["audio"].params, cross)
    net.image, net.audio = ensembles["image"], ensembles["audio"]
    net.w_image_audio, net.w_audio_image = w_ia, w_ai
    return net, labels, card
