"""read_wav on good files (8/16/24/32 bit, extensible) and on every kind of bad file."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from lava_thesis.data import DataFormatError, read_wav, write_wav


def _riff(fmt_body: bytes, data: bytes, extra: bytes = b"") -> bytes:
    chunks = b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body + extra
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _fmt(tag=1, channels=1, rate=8000, bits=16) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


def test_round_trip_16bit(tmp_path, rng):
    x = rng.uniform(-0.9, 0.9, 800)
    out = read_wav(write_wav(tmp_path / "a.wav", x))
    assert out.dtype == np.float32 and out.shape == (800,)
    np.testing.assert_allclose(out, x, atol=1 / 16000)


@pytest.mark.parametrize(
    ("bits", "payload", "expected"),
    [
        (8, bytes([0, 128, 255]), [-1.0, 0.0, 127 / 128]),
        (16, struct.pack("<3h", -32768, 0, 16384), [-1.0, 0.0, 0.5]),
        (24, b"\x00\x00\x80" + b"\x00\x00\x00" + b"\x00\x00\x40", [-1.0, 0.0, 0.5]),
        (32, struct.pack("<3i", -(2**31), 0, 2**30), [-1.0, 0.0, 0.5]),
    ],
)
def test_sample_widths(tmp_path, bits, payload, expected):
    path = tmp_path / f"w{bits}.wav"
    path.write_bytes(_riff(_fmt(bits=bits), payload, extra=b"LIST\x02\x00\x00\x00ab"))
    np.testing.assert_allclose(read_wav(path), expected, atol=1e-7)


def test_extensible_pcm(tmp_path):
    guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    body = _fmt(tag=0xFFFE) + struct.pack("<HHI", 22, 16, 4) + guid
    path = tmp_path / "ext.wav"
    path.write_bytes(_riff(body, struct.pack("<2h", 0, 16384)))
    np.testing.assert_allclose(read_wav(path), [0.0, 0.5])


def test_resample(tmp_path):
    t = np.arange(1600) / 16000
    path = write_wav(tmp_path / "r16k.wav", 0.5 * np.sin(2 * np.pi * 440 * t), rate=16000)
    with pytest.raises(DataFormatError, match="16000 Hz") as info:
        read_wav(path)
    assert "r16k.wav" in str(info.value) and "8000 Hz" in str(info.value)
    out = read_wav(path, resample=True)
    assert out.shape == (800,) and out.dtype == np.float32
    assert abs(np.abs(out[100:700]).max() - 0.5) < 0.02
    assert read_wav(path, expected_rate=None).shape == (1600,)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("notriff.wav", b"OggS" + b"\0" * 40, "not a RIFF/WAVE"),
        ("empty.wav", b"", "not a RIFF/WAVE"),
        ("float.wav", _riff(_fmt(tag=3, bits=32), b"\0" * 8), "not PCM"),
        ("stereo.wav", _riff(_fmt(channels=2), b"\0" * 8), "not mono: 2 channels"),
        ("nosamples.wav", _riff(_fmt(), b""), "empty: 0 samples"),
        ("cut.wav", _riff(_fmt(), b"\0" * 100)[:-10], "truncated"),
        ("halfframe.wav", _riff(_fmt(), b"\0" * 5), "truncated"),
        ("headeronly.wav", _riff(_fmt(), b"")[:30], "truncated"),
        ("nodata.wav", _riff(_fmt(), b"")[:-8], "no data chunk"),
        ("12bit.wav", _riff(_fmt(bits=12), b"\0" * 4), "unsupported 12-bit"),
    ],
)
def test_bad_files_name_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=match) as info:
        read_wav(path)
    assert name in str(info.value)


def test_stereo_written_by_stdlib_is_refused(tmp_path):
    path = write_wav(tmp_path / "st.wav", np.zeros((10, 2)), channels=2)
    with pytest.raises(DataFormatError, match="not mono") as info:
        read_wav(path)
    assert "st.wav" in str(info.value)


def test_matches_scipy_on_real_file(data_root):
    from scipy.io import wavfile

    path = data_root / "fsdd" / "recordings" / "3_theo_7.wav"
    rate, ints = wavfile.read(path)
    assert rate == 8000
    np.testing.assert_array_equal(read_wav(path), (ints / 32768.0).astype(np.float32))
