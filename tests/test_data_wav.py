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


def _wav_bytes(tmp_path, samples=None, rate=8000) -> bytes:
    """A valid 16-bit mono WAV written by the stdlib ``wave`` module (via write_wav)."""
    samples = np.linspace(-0.5, 0.5, 64) if samples is None else samples
    return write_wav(tmp_path / "valid.wav", samples, rate=rate).read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("rate0.wav", _riff(_fmt(rate=0), b"\0" * 8), "sample rate 0 Hz"),
        ("rate1.wav", _riff(_fmt(rate=1), b"\0" * 8192), r"sample rate 1 Hz outside \[1000"),
        ("rate_huge.wav", _riff(_fmt(rate=500_000), b"\0" * 8), "outside"),
        ("zero_channels.wav", _riff(_fmt(channels=0), b"\0" * 8), "not mono: 0 channels"),
        ("two_data.wav", _riff(_fmt(), b"\0" * 8, extra=b"data\x02\x00\x00\x00ab"), "two data"),
        ("two_fmt.wav", _riff(_fmt(), b"\0" * 8, extra=b"fmt " + struct.pack("<I", 16) + _fmt()),
         "two fmt"),
        ("big_list.wav", _riff(_fmt(), b"\0" * 8, extra=b"LIST\xff\xff\x00\x00ab"),
         "'LIST' chunk at byte 36 declares 65535 bytes"),
        ("align3.wav", _riff(struct.pack("<HHIIHH", 1, 1, 8000, 24000, 3, 16), b"\0" * 6),
         "unsupported 16-bit samples, block 3"),
        ("align_odd.wav", _riff(struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 16), b"\0" * 6),
         "block 1"),
        ("byterate.wav", _riff(struct.pack("<HHIIHH", 1, 1, 8000, 16001, 2, 16), b"\0" * 6),
         "byte rate 16001"),
        ("short_fmt.wav", _riff(_fmt()[:14], b"\0" * 8), "fmt chunk of only 14 bytes"),
    ],
)
def test_corrupt_headers_are_refused(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=match) as info:
        read_wav(path, expected_rate=None)
    assert name in str(info.value)


def test_riff_size_past_the_end_and_nonprintable_chunk_id(tmp_path):
    good = _wav_bytes(tmp_path)
    path = tmp_path / "riff.wav"
    path.write_bytes(good[:4] + struct.pack("<I", len(good)) + good[8:])  # 8 bytes too many
    with pytest.raises(DataFormatError, match="RIFF header declares"):
        read_wav(path)
    path.write_bytes(good[:50] + b"\0\0" + good[50:])  # two bytes inserted into the samples
    with pytest.raises(DataFormatError, match="2 bytes after the end of the RIFF chunk"):
        read_wav(path)
    # shorten the data chunk by 8 bytes: its last 8 zero bytes now look like a chunk with id
    # b"\0\0\0\0" and size 0, which must not pass as a harmless unknown chunk
    zeros = _wav_bytes(tmp_path, np.zeros(64))
    cut = zeros.replace(b"data" + struct.pack("<I", 128), b"data" + struct.pack("<I", 120))
    path.write_bytes(cut)
    with pytest.raises(DataFormatError, match="corrupt chunk id"):
        read_wav(path)


def test_one_hertz_file_is_refused_without_resampling_it(tmp_path):
    import tracemalloc

    path = tmp_path / "1hz.wav"
    path.write_bytes(_riff(_fmt(rate=1), b"\x01\x00" * 4096))  # 8 KB
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="sample rate 1 Hz"):
            read_wav(path, resample=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # it used to resample: 369 MB for this 8 KB file


def test_resampling_is_bounded(tmp_path, monkeypatch):
    from lava_thesis.data import wav

    path = write_wav(tmp_path / "odd.wav", np.zeros(100), rate=8001)
    with pytest.raises(DataFormatError, match="cannot resample 8001 Hz") as info:
        read_wav(path, resample=True)  # 8000/8001: a 160,021-tap filter
    assert "odd.wav" in str(info.value)
    path = write_wav(tmp_path / "long.wav", np.zeros(1000), rate=4000)
    monkeypatch.setattr(wav, "MAX_SAMPLES", 1999)
    with pytest.raises(DataFormatError, match="2000 samples"):
        read_wav(path, resample=True)
    monkeypatch.setattr(wav, "MAX_SAMPLES", 2000)
    assert read_wav(path, resample=True).shape == (2000,)
    with pytest.raises(ValueError, match="expected_rate"):
        read_wav(path, expected_rate=0)


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    from lava_thesis.data import wav

    path = write_wav(tmp_path / "big.wav", np.zeros(1000))
    monkeypatch.setattr(wav, "MAX_WAV_BYTES", 1000)
    with pytest.raises(DataFormatError, match="2044 bytes, more than the limit of 1000") as info:
        read_wav(path)
    assert "big.wav" in str(info.value)


def test_not_a_regular_file(tmp_path):
    from lava_thesis.data import DataNotFoundError

    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(DataFormatError, match="is a directory") as info:
        read_wav(tmp_path / "dir.wav")
    assert "dir.wav" in str(info.value)
    with pytest.raises(DataFormatError, match="character device"):
        read_wav("/dev/zero")  # would be an endless read if it were opened
    with pytest.raises(DataNotFoundError, match="gone.wav"):
        read_wav(tmp_path / "gone.wav")
