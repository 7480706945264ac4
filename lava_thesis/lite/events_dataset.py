"""Synthetic N-MNIST-like data sets: many images -> event recordings, cached as ``.npz``.

The cache file ``<cache_dir>/synthetic_nmnist_<key>.npz`` (default
``~/.cache/lava-thesis/features``) is keyed by the
:class:`~lava_thesis.lite.events_synth.SynthConfig`, the seed, a format version and a hash of
the image and label bytes, so changed settings or images are recomputed and unchanged ones are
read back. It holds all events concatenated, field by field in compact types (``x``, ``y``,
``p`` uint8 on sensors up to 256 pixels wide, ``t`` uint32), each recording's start
(``offsets``, length N + 1) and the ``labels``.

Example:
    >>> data = synthetic_nmnist("test", 1000)           # doctest: +SKIP
    >>> len(data), data.events(0).dtype.names           # doctest: +SKIP
    (1000, ('x', 'y', 't', 'p'))
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lava_thesis.atomic import atomic_path
from lava_thesis.data.events import EVENT_DTYPE
from lava_thesis.lite.events_synth import SynthConfig, events_to_frames, synthesize_events

__all__ = ["SyntheticEventSet", "build_synthetic_events", "synthetic_nmnist"]

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "lava-thesis" / "features"


@dataclass(frozen=True)
class SyntheticEventSet:
    """Synthetic recordings: ``events[offsets[i]:offsets[i + 1]]`` is recording ``i``."""

    all_events: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    config: SynthConfig

    def __len__(self) -> int:
        return len(self.labels)

    def events(self, i: int) -> np.ndarray:
        """Recording ``i`` (:data:`~lava_thesis.data.events.EVENT_DTYPE`, time-sorted)."""
        return self.all_events[self.offsets[i]:self.offsets[i + 1]]

    def frames(self, i: int, n_bins: int) -> np.ndarray:
        """Recording ``i`` as ``(n_bins, 2, H, W)`` float32 counts over the whole recording."""
        return events_to_frames(self.events(i), self.config.sensor_size, n_bins,
                                self.config.duration_us)


def build_synthetic_events(images: npt.ArrayLike, labels: npt.ArrayLike,
                           cfg: SynthConfig | None = None, *, seed: int = 0,
                           cache_dir: str | os.PathLike | None = None) -> SyntheticEventSet:
    """Convert ``images`` ``(N, h, w)`` uint8 with their ``labels`` to synthetic recordings.

    Reads the cache when the same settings, seed and images were converted before; otherwise
    converts (:func:`~lava_thesis.lite.events_synth.synthesize_events`) and writes it
    atomically.
    """
    cfg = cfg or SynthConfig()
    if cfg.duration_us >= 2**32:
        raise ValueError(f"duration_us {cfg.duration_us} does not fit the cache's uint32 times")
    imgs, labs = np.ascontiguousarray(images), np.ascontiguousarray(labels, dtype=np.int64)
    if imgs.ndim != 3 or len(imgs) != len(labs):
        raise ValueError(f"images (N, h, w) and N labels required, got {imgs.shape}, "
                         f"{labs.shape}")
    settings = json.dumps({"config": asdict(cfg), "seed": seed, "version": CACHE_VERSION,
                           "shape": list(imgs.shape), "dtype": str(imgs.dtype)}, sort_keys=True)
    digest = hashlib.sha1(settings.encode())
    digest.update(imgs.tobytes())
    digest.update(labs.tobytes())
    name = f"synthetic_nmnist_{digest.hexdigest()[:16]}.npz"
    path = Path(cache_dir or default_cache_dir()) / name
    if path.is_file():
        with np.load(path) as cached:
            events = np.empty(len(cached["t"]), EVENT_DTYPE)
            for name in EVENT_DTYPE.names:
                events[name] = cached[name]
            return SyntheticEventSet(events, cached["offsets"], cached["labels"], cfg)
    recordings = synthesize_events(imgs, cfg, seed=seed)
    offsets = np.zeros(len(recordings) + 1, np.int64)
    np.cumsum([len(r) for r in recordings], out=offsets[1:])
    events = np.concatenate(recordings) if recordings else np.empty(0, EVENT_DTYPE)
    path.parent.mkdir(parents=True, exist_ok=True)
    xy_type = np.min_scalar_type(max(cfg.sensor_size) - 1)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, x=events["x"].astype(xy_type), y=events["y"].astype(xy_type),
                            t=events["t"].astype(np.uint32), p=events["p"].astype(np.uint8),
                            offsets=offsets, labels=labs)
    return SyntheticEventSet(events, offsets, labs, cfg)


def synthetic_nmnist(split: str = "train", n: int | None = None,
                     data_dir: str | os.PathLike | None = None, cfg: SynthConfig | None = None,
                     *, seed: int = 0, cache_dir: str | os.PathLike | None = None
                     ) -> SyntheticEventSet:
    """Synthetic N-MNIST-like recordings of the first ``n`` MNIST images of ``split``."""
    from lava_thesis.data.mnist import load_mnist

    images, labels = load_mnist(split, data_dir)
    return build_synthetic_events(images[:n], labels[:n], cfg, seed=seed, cache_dir=cache_dir)
