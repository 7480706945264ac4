"""Audio front end: an utterance -> a fixed 28 x 28 log mel filter-bank "image" (uint8).

28 mel filters (python_speech_features' ``logfbank``: 25 ms windows, 10 ms hop, pre-emphasis
0.97) over 28 time frames (the utterance's frames linearly resampled to 28), log energies mapped
to [0, 255] over the top ``dynamic_range_db`` (30 dB) of each utterance. The result has MNIST's
shape, so the same Poisson encoder and STDP network take it (rate = value / 255 * max rate).

Example:
    >>> import numpy as np
    >>> t = np.arange(4000) / 8000
    >>> img = audio_image(np.sin(2 * np.pi * 1000 * t), 8000)
    >>> img.shape, img.dtype
    ((28, 28), dtype('uint8'))
"""

from __future__ import annotations

import numpy as np
from python_speech_features import logfbank

N_FILTERS = 28
N_FRAMES = 28
# 30 dB: the sparsest map that kept audio-only STDP accuracy (FSDD, 100 neurons, 2 epochs:
# 50 dB 59.7%, 35 dB 75.0%, 30 dB 75.0%, 25 dB 74.0%)
DYNAMIC_RANGE_DB = 30.0


def audio_image(signal: np.ndarray, sample_rate: int, *, n_filters: int = N_FILTERS,
                n_frames: int = N_FRAMES,
                dynamic_range_db: float = DYNAMIC_RANGE_DB) -> np.ndarray:
    """Log mel filter-bank image ``(n_filters, n_frames)``, uint8, low frequencies first."""
    signal = np.asarray(signal, np.float64).reshape(-1)
    if signal.size == 0:
        raise ValueError("empty audio signal")
    if not np.isfinite(signal).all():
        raise ValueError("audio signal has non-finite samples")
    win = int(round(0.025 * sample_rate))
    if signal.size < win:
        signal = np.pad(signal, (0, win - signal.size))
    nfft = 1 << int(np.ceil(np.log2(win)))
    bank = logfbank(signal, samplerate=sample_rate, winlen=0.025, winstep=0.01,
                    nfilt=n_filters, nfft=nfft)  # (frames, filters), natural log
    src = np.linspace(0.0, 1.0, bank.shape[0])
    dst = np.linspace(0.0, 1.0, n_frames)
    resampled = np.stack([np.interp(dst, src, bank[:, k]) for k in range(n_filters)])
    span = dynamic_range_db / 10.0 * np.log(10.0)  # dB -> natural log of energy
    top = resampled.max()
    scaled = np.clip((resampled - (top - span)) / span, 0.0, 1.0)
    return np.round(scaled * 255.0).astype(np.uint8)


def add_white_noise(signal: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``signal`` plus white Gaussian noise at ``snr_db`` (signal power / noise power)."""
    signal = np.asarray(signal, np.float64)
    power = float(np.mean(signal ** 2))
    if power == 0:
        raise ValueError("cannot set an SNR for a silent signal")
    noise = rng.standard_normal(signal.shape) * np.sqrt(power / 10 ** (snr_db / 10))
    return signal + noise
