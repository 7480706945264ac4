"""Multimodal groundwork: audio images, noise, pairing, and the per-data-directory cache."""

from __future__ import annotations

import os

import numpy as np
import pytest
from python_speech_features import get_filterbanks

from lava_thesis.data.wav import write_wav
from lava_thesis.multimodal import audio, features
from lava_thesis.multimodal.pairing import gaussian_noise, pair_by_class, salt_and_pepper


def _tone(freq: float, seconds: float = 0.5, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("freq", [500.0, 1000.0, 2500.0])
def test_tone_lights_the_filter_covering_its_frequency(freq):
    img = audio.audio_image(_tone(freq), 8000)
    assert img.shape == (28, 28) and img.dtype == np.uint8
    bank = get_filterbanks(nfilt=28, nfft=256, samplerate=8000)
    expected = int(bank[:, int(round(freq / 8000 * 256))].argmax())
    assert abs(int(img.mean(1).argmax()) - expected) <= 1


def test_audio_image_rejects_empty_and_nan():
    with pytest.raises(ValueError, match="empty"):
        audio.audio_image(np.zeros(0), 8000)
    with pytest.raises(ValueError, match="non-finite"):
        audio.audio_image(np.array([0.0, np.nan] * 200), 8000)


def test_white_noise_has_the_requested_snr(rng):
    signal = _tone(700.0, seconds=5.0)
    noisy = audio.add_white_noise(signal, 10.0, rng)
    snr = 10 * np.log10(np.mean(signal ** 2) / np.mean((noisy - signal) ** 2))
    assert snr == pytest.approx(10.0, abs=0.1)
    with pytest.raises(ValueError, match="silent"):
        audio.add_white_noise(np.zeros(10), 10.0, rng)


def test_pairing_matches_classes_and_is_seeded():
    images = np.array([0, 1, 2, 1, 0, 2, 2])
    sounds = np.array([2, 2, 1, 0, 0, 1, 2, 0])
    idx = pair_by_class(images, sounds, seed=3)
    np.testing.assert_array_equal(sounds[idx], images)
    np.testing.assert_array_equal(idx, pair_by_class(images, sounds, seed=3))
    with pytest.raises(ValueError, match="class 5"):
        pair_by_class(np.array([5]), sounds)


def test_image_noise(rng):
    images = np.full((50, 28, 28), 100, np.uint8)
    sp = salt_and_pepper(images, 0.2, rng)
    changed = sp != images
    assert abs(changed.mean() - 0.2) < 0.01 and set(np.unique(sp[changed])) <= {0, 255}
    g = gaussian_noise(images, 30.0, rng)
    assert g.dtype == np.uint8 and abs(float(g.std()) - 30.0) < 1.0


def _fake_fsdd(root):
    rec = root / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    for digit in range(2):
        for take in (0, 7):
            write_wav(rec / f"{digit}_alice_{take}.wav", _tone(400.0 + 300 * digit), 8000)
    return rec


def test_features_are_cached_and_invalidated(tmp_path, monkeypatch):
    rec = _fake_fsdd(tmp_path / "data")
    cache = tmp_path / "cache"
    images, labels = features.fsdd_images("train", tmp_path / "data", cache_dir=cache)
    assert images.shape == (2, 28, 28) and labels.tolist() == [0, 1]
    assert len(list(cache.glob("*.npz"))) == 1

    def boom(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(features, "audio_image", boom)
    again, _ = features.fsdd_images("train", tmp_path / "data", cache_dir=cache)
    np.testing.assert_array_equal(again, images)
    target = rec / "1_alice_7.wav"  # a changed recording invalidates the cache
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="recomputed"):
        features.fsdd_images("train", tmp_path / "data", cache_dir=cache)


def test_shipped_fsdd_subset_is_real_and_split_as_fsdd(data_root):
    from lava_thesis.data.fsdd import load_fsdd
    from lava_thesis.data.shipped_fsdd import shipped_fsdd_root

    train, test = load_fsdd("train", shipped_fsdd_root()), load_fsdd("test", shipped_fsdd_root())
    assert (len(train), len(test)) == (120, 60)
    assert {r.index for r in test} == {0} and {r.index for r in train} == {5, 6}
    for rec in train + test:
        real = data_root / "fsdd" / "recordings" / rec.path.name
        assert rec.path.read_bytes() == real.read_bytes()


def _npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _npz_with_header(header: dict, labels: np.ndarray) -> bytes:
    """An npz whose images.npy holds only a header (e.g. one declaring a huge shape)."""
    import io
    import zipfile

    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, header)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("images.npy", npy.getvalue())
        with archive.open("labels.npy", "w") as member:
            np.lib.format.write_array(member, labels)
    return out.getvalue()


@pytest.mark.parametrize("corruption", ["truncated", "garbage", "empty", "wrong_key", "shape",
                                        "nan", "labels", "huge_header", "directory"])
def test_corrupt_cache_is_detected_and_rebuilt(tmp_path, monkeypatch, corruption):
    _fake_fsdd(tmp_path / "data")
    cache = tmp_path / "cache"
    images, labels = features.fsdd_images("train", tmp_path / "data", cache_dir=cache)
    (path,) = cache.glob("*.npz")
    good = path.read_bytes()
    bad = {
        "truncated": good[: len(good) // 2],
        "garbage": b"\x93NUMPY" + bytes(range(256)),
        "empty": b"",
        "wrong_key": _npz_bytes(imgs=images, labels=labels),
        "shape": _npz_bytes(images=images[:1], labels=labels[:1]),
        "nan": _npz_bytes(images=np.full(images.shape, np.nan), labels=labels),
        "labels": _npz_bytes(images=images, labels=labels[::-1].copy()),
        # a header declaring 2**40 images must be refused before anything is allocated
        "huge_header": _npz_with_header({"descr": "|u1", "fortran_order": False,
                                         "shape": (2**40, 28, 28)}, labels),
    }.get(corruption)
    path.unlink()
    if bad is None:
        path.mkdir()  # a directory where the cache file belongs: recompute, warn, no crash
        with pytest.warns(UserWarning, match="could not write the feature cache"):
            again, again_labels = features.fsdd_images("train", tmp_path / "data",
                                                       cache_dir=cache)
    else:
        path.write_bytes(bad)
        loads = []
        with monkeypatch.context() as patch:
            real_load = np.load
            patch.setattr(features.np, "load",
                          lambda *a, **k: loads.append(a) or real_load(*a, **k))
            again, again_labels = features.fsdd_images("train", tmp_path / "data",
                                                       cache_dir=cache)
        if corruption in ("huge_header", "shape", "wrong_key", "nan"):
            assert not loads  # refused from the array headers: no array was read
        monkeypatch.setattr(features, "audio_image", _boom)  # the rebuilt cache is used now
        third, _ = features.fsdd_images("train", tmp_path / "data", cache_dir=cache)
        np.testing.assert_array_equal(third, images)
        assert path.read_bytes() != bad
    np.testing.assert_array_equal(again, images)
    np.testing.assert_array_equal(again_labels, labels)
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left behind


def _boom(*args, **kwargs):
    raise AssertionError("recomputed despite a valid cache")


def test_silent_recording_with_noise_names_the_file(tmp_path):
    rec = _fake_fsdd(tmp_path / "data")
    write_wav(rec / "1_alice_7.wav", np.zeros(4000), 8000)
    with pytest.raises(features.DataFormatError, match="silent") as info:
        features.fsdd_images("train", tmp_path / "data", cache_dir=tmp_path / "c", snr_db=5.0)
    assert "1_alice_7.wav" in str(info.value)
