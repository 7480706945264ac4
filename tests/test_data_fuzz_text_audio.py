"""Property tests: random, truncated, mutated and special files given to the audio/text readers.

The only exceptions allowed are the library's DataFormatError / DataNotFoundError, and their
message must name the file. When a reader accepts a file its output must be what the file
holds (checked against an independent decoding), never silently different data. Special
files (FIFOs, devices) must be refused without being opened: a timeout turns a hang into a
failure.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lava_thesis.data import (
    DataFormatError,
    DataNotFoundError,
    load_fsdd,
    load_multi30k,
    load_sentiment,
    read_wav,
)
from lava_thesis.data.fsdd import parse_fsdd_name
from lava_thesis.data.multi30k import read_lines
from lava_thesis.data.sentiment import read_labelled
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize

ALLOWED = (DataFormatError, DataNotFoundError)
FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADER = 44  # bytes before the samples in a file written by the stdlib wave module


@pytest.fixture(scope="module")
def work():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def _run(call, path: Path):
    """``call()``'s result, or None when it raised an allowed error naming ``path``."""
    try:
        return call()
    except ALLOWED as exc:
        assert path.name in str(exc), str(exc)
        return None


def _valid_wav(n: int, rate: int = 8000) -> tuple[bytes, np.ndarray]:
    """A 16-bit mono WAV of ``n`` samples written by the stdlib, and its float samples."""
    ints = np.random.default_rng(n).integers(-32768, 32768, n).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(ints.tobytes())
    return buffer.getvalue(), (ints / 32768.0).astype(np.float32)


def _check_audio(out) -> None:
    assert out.dtype == np.float32 and out.ndim == 1 and len(out) > 0
    assert np.isfinite(out).all() and np.abs(out).max() <= 1.0


# ---------------------------------------------------------------------------- WAV

riff_like = st.builds(lambda size, tail: b"RIFF" + size.to_bytes(4, "little") + b"WAVE" + tail,
                      st.integers(0, 2**32 - 1), st.binary(max_size=120))


@FAST
@given(raw=st.one_of(st.binary(max_size=200), riff_like))
def test_wav_random_bytes(work, raw):
    path = work / "random.wav"
    path.write_bytes(raw)
    out = _run(lambda: read_wav(path, expected_rate=None, resample=True), path)
    if out is not None:
        _check_audio(out)


@FAST
@given(n=st.integers(1, 80), rate=st.sampled_from([8000, 16000, 11025]), data=st.data())
def test_wav_truncated_or_extended_is_refused(work, n, rate, data):
    good, _ = _valid_wav(n, rate)
    cut = data.draw(st.integers(0, len(good) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=16))
    where = data.draw(st.integers(0, len(good)))
    path = work / "cut.wav"
    for raw in (good[:cut], good[:where] + extra + good[where:]):
        path.write_bytes(raw)
        with pytest.raises(ALLOWED) as info:
            read_wav(path, expected_rate=None)
        assert "cut.wav" in str(info.value)


@FAST
@given(n=st.integers(1, 80), pos=st.integers(0, HEADER - 1), value=st.integers(0, 255))
def test_wav_header_byte_changed_is_refused_or_harmless(work, n, pos, value):
    good, samples = _valid_wav(n)
    raw = bytearray(good)
    raw[pos] = value
    path = work / "header.wav"
    path.write_bytes(bytes(raw))
    out = _run(lambda: read_wav(path, expected_rate=None), path)
    if out is not None:  # accepted: the change must not have altered a single sample
        np.testing.assert_array_equal(out, samples)


@FAST
@given(n=st.integers(1, 80), changes=st.lists(st.tuples(st.integers(0), st.integers(0, 255)),
                                               min_size=1, max_size=8))
def test_wav_sample_bytes_changed_read_as_written(work, n, changes):
    good, _ = _valid_wav(n)
    raw = bytearray(good)
    for pos, value in changes:
        raw[HEADER + pos % (2 * n)] = value
    path = work / "samples.wav"
    path.write_bytes(bytes(raw))
    expected = np.frombuffer(bytes(raw[HEADER:]), "<i2") / 32768.0
    np.testing.assert_array_equal(read_wav(path), expected.astype(np.float32))


@FAST
@given(rate=st.integers(0, 2**32 - 1), resample=st.booleans())
def test_wav_any_declared_rate_is_bounded(work, rate, resample):
    good, _ = _valid_wav(64)
    raw = bytearray(good)
    raw[24:28] = rate.to_bytes(4, "little")
    raw[28:32] = (rate * 2 % 2**32).to_bytes(4, "little")  # a consistent byte rate
    path = work / "rate.wav"
    path.write_bytes(bytes(raw))
    out = _run(lambda: read_wav(path, expected_rate=8000, resample=resample), path)
    if out is not None:
        _check_audio(out)
        assert 1000 <= rate <= 384_000 and len(out) <= 64 * 8000 // 1000 + 1


# ---------------------------------------------------------------------------- text

sentence = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff",
                  whitelist_characters="\x85\t"),  # U+0085, U+2028 stay inside a line
    min_size=1, max_size=30,
).filter(lambda s: s.strip())
line_end = st.sampled_from(["\n", "\r\n", "\r"])


def _reference_lines(raw: bytes) -> list[str]:
    """Lines as the documented rules define them, decoded independently of the reader."""
    text = raw.decode("utf-8").removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


@FAST
@given(raw=st.binary(max_size=200), zipped=st.booleans())
def test_read_lines_random_bytes(work, raw, zipped):
    path = work / "random.en.gz"
    path.write_bytes(gzip.compress(raw, mtime=0) if zipped else raw)
    lines = _run(lambda: read_lines(path), path)
    if lines is not None:
        assert lines == _reference_lines(raw) and all(line.strip() for line in lines)


@FAST
@given(lines=st.lists(sentence, min_size=1, max_size=8), end=line_end, bom=st.booleans(),
       final=st.booleans(), zipped=st.booleans())
def test_read_lines_round_trip(work, lines, end, bom, final, zipped):
    text = ("\ufeff" if bom else "") + end.join(lines) + (end if final else "")
    raw = text.encode()
    path = work / "rt.de"
    path.write_bytes(gzip.compress(raw, mtime=0) if zipped else raw)
    assert read_lines(path) == lines


@FAST
@given(lines=st.lists(sentence, min_size=1, max_size=6), data=st.data())
def test_read_lines_gzip_truncated_or_bit_flipped(work, lines, data):
    packed = gzip.compress("\n".join(lines).encode(), mtime=0)
    path = work / "mut.en.gz"
    cut = data.draw(st.integers(2, len(packed) - 1))
    path.write_bytes(packed[:cut])
    with pytest.raises(DataFormatError, match="gzip") as info:  # truncation is always seen
        read_lines(path)
    assert "mut.en.gz" in str(info.value)
    flipped = bytearray(packed)
    pos = data.draw(st.integers(10, len(packed) - 1))  # inside the deflate data or trailer
    flipped[pos] ^= 1 << data.draw(st.integers(0, 7))
    path.write_bytes(bytes(flipped))
    out = _run(lambda: read_lines(path), path)
    assert out is None or out == lines  # the CRC catches any change to the content


@FAST
@given(src=st.lists(sentence, min_size=1, max_size=5), tgt=st.lists(sentence, min_size=1,
                                                                     max_size=5))
def test_multi30k_pairs_or_line_count_error(work, src, tgt):
    root = Path(tempfile.mkdtemp(dir=work))
    d = root / "multi30k"
    d.mkdir()
    (d / "val.de").write_text("\n".join(src) + "\n", encoding="utf-8", newline="")
    (d / "val.en.gz").write_bytes(gzip.compress("\r\n".join(tgt).encode(), mtime=0))
    if len(src) == len(tgt):
        pairs = load_multi30k("val", data_dir=root, download=False)
        assert pairs == list(zip(src, tgt, strict=True))
    else:
        with pytest.raises(DataFormatError, match="lines but") as info:
            load_multi30k("val", data_dir=root, download=False)
        assert "val.de" in str(info.value) and "val.en.gz" in str(info.value)


@FAST
@given(raw=st.one_of(st.binary(max_size=200),
                     st.lists(st.tuples(st.text(max_size=12), st.sampled_from("\t \t\t")
                                        ), max_size=6).map(
                         lambda rows: "\n".join(a + b for a, b in rows).encode())))
def test_read_labelled_random_bytes(work, raw):
    path = work / "random_labelled.txt"
    path.write_bytes(raw)
    out = _run(lambda: read_labelled(path), path)
    if out is not None:
        sentences, labels = out
        rows = [line for line in _reference_lines(raw) if line.strip()]
        assert len(sentences) == len(labels) == len(rows) > 0
        assert set(labels) <= {0, 1}
        for s, label, row in zip(sentences, labels, rows, strict=True):
            assert s and s == s.strip() and "\t" not in s
            assert row.strip().endswith(str(label)) and s in row


@FAST
@given(rows=st.lists(st.tuples(sentence.filter(lambda s: "\t" not in s), st.integers(0, 1)),
                     min_size=1, max_size=8), end=line_end, bom=st.booleans())
def test_read_labelled_round_trip(work, rows, end, bom):
    text = ("\ufeff" if bom else "") + end.join(f"{s}\t{label}" for s, label in rows) + end
    path = work / "rt_labelled.txt"
    path.write_bytes(text.encode())
    assert read_labelled(path) == ([s.strip() for s, _ in rows], [label for _, label in rows])


@FAST
@given(rows=st.lists(st.tuples(sentence.filter(lambda s: "\t" not in s), st.integers(0, 1)),
                     min_size=1, max_size=8), data=st.data())
def test_read_labelled_mutations(work, rows, data):
    raw = bytearray("".join(f"{s}\t{label}\n" for s, label in rows).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = work / "mut_labelled.txt"
    path.write_bytes(bytes(raw))
    out = _run(lambda: read_labelled(path), path)
    if out is not None:
        assert set(out[1]) <= {0, 1} and all(s and "\t" not in s for s in out[0])


# ---------------------------------------------------------------------------- names, tokens

@FAST
@given(name=st.one_of(st.text(max_size=20).map(lambda s: s + ".wav"),
                      st.from_regex(r"[0-9]{1,2}_[A-Za-z][a-z0-9-]{0,4}_[0-9]{1,7}\.wav",
                                    fullmatch=True)))
def test_fsdd_names_parse_exactly_or_not_at_all(name):
    try:
        rec = parse_fsdd_name(Path("recordings") / name)
    except DataFormatError as exc:
        assert name in str(exc)
        return
    assert 0 <= rec.digit <= 9 and 0 <= rec.index <= 999_999
    digit, speaker, index = name.removesuffix(".wav").split("_")
    assert (str(rec.digit), rec.speaker, rec.index) == (digit, speaker, int(index))


@FAST
@given(texts=st.lists(st.text(max_size=40), max_size=6))
def test_tokens_vocab_and_encoding_on_any_text(texts):
    token_lists = [tokenize(t) for t in texts]
    for tokens in token_lists:
        assert all(t and not any(c.isspace() for c in t) and "\ufeff" not in t for t in tokens)
    try:
        vocab = Vocab.build(token_lists)
    except ValueError as exc:
        assert "no tokens" in str(exc) and not any(token_lists)
        return
    try:
        ids, lengths = encode_sentences(texts, vocab, 5)
    except ValueError as exc:
        assert "has no tokens" in str(exc) and not all(token_lists)
        return
    assert ids.shape == (len(texts), 5) and (lengths >= 1).all() and ids.max() < len(vocab)


# ---------------------------------------------------------------------------- special files

def _finishes(call, fifo: Path, timeout: float = 10.0) -> BaseException | None:
    """Run ``call`` in a thread; fail (after unblocking it) if it does not end in time."""
    outcome: list[BaseException | None] = []

    def target():
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():  # it opened the FIFO and blocks: open the write end to release it
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout)
        pytest.fail(f"reading the FIFO {fifo} blocked (it must be refused before opening)")
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo needs a POSIX system")
@pytest.mark.parametrize("reader", ["wav", "fsdd", "multi30k", "sentiment"])
def test_fifo_is_refused_without_hanging(tmp_path, reader):
    calls = {
        "wav": ("x.wav", lambda: read_wav(tmp_path / "x.wav")),
        "fsdd": ("fsdd/recordings/0_bob_1.wav",
                 lambda: [r.read() for r in load_fsdd("all", tmp_path, download=False)]),
        "multi30k": ("multi30k/val.en.gz",
                     lambda: load_multi30k("val", data_dir=tmp_path, download=False)),
        "sentiment": ("sentiment/yelp_labelled.txt",
                      lambda: load_sentiment(tmp_path, ("yelp",), download=False)),
    }
    name, call = calls[reader]
    fifo = tmp_path / name
    fifo.parent.mkdir(parents=True, exist_ok=True)
    if reader == "multi30k":
        (fifo.parent / "val.de").write_text("a\n")
    os.mkfifo(fifo)
    exc = _finishes(call, fifo)
    assert isinstance(exc, DataFormatError), repr(exc)
    assert fifo.name in str(exc) and "FIFO" in str(exc)


def test_device_and_symlink_to_device_are_refused(tmp_path):
    link = tmp_path / "zero.wav"
    link.symlink_to("/dev/zero")  # an endless file if it were read
    for path in (Path("/dev/zero"), link):
        with pytest.raises(DataFormatError, match="character device") as info:
            read_lines(path)
        assert path.name in str(info.value)
        with pytest.raises(DataFormatError, match="character device"):
            read_wav(path)


# ---------------------------------------------------------------------------- feature cache

@pytest.fixture(scope="module")
def fsdd_cache(work):
    """A tiny FSDD tree, its audio images computed once, and the cache file's path."""
    from lava_thesis.data.wav import write_wav
    from lava_thesis.multimodal.features import fsdd_images

    root = work / "fsdd_root"
    recordings = root / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    t = np.arange(2000) / 8000
    for digit in (3, 8):
        write_wav(recordings / f"{digit}_eve_9.wav", 0.4 * np.sin(2 * np.pi * 300 * digit * t))
    cache = work / "cache"
    images, labels = fsdd_images("train", root, cache_dir=cache)
    (path,) = cache.glob("*.npz")
    return root, cache, path, path.read_bytes(), images, labels


@settings(FAST, max_examples=15)
@given(data=st.data())
def test_feature_cache_any_corruption_is_rebuilt(fsdd_cache, data):
    from lava_thesis.multimodal.features import fsdd_images

    root, cache, path, good, images, labels = fsdd_cache
    corrupt = data.draw(st.one_of(
        st.binary(max_size=300),
        st.integers(0, len(good) - 1).map(lambda n: good[:n]),
        st.tuples(st.integers(0, len(good) - 1), st.integers(1, 255)).map(
            lambda c: good[:c[0]] + bytes([good[c[0]] ^ c[1]]) + good[c[0] + 1:]),
    ))
    path.write_bytes(corrupt)
    again, again_labels = fsdd_images("train", root, cache_dir=cache)
    np.testing.assert_array_equal(again, images)
    np.testing.assert_array_equal(again_labels, labels)
    assert sorted(p.name for p in cache.iterdir()) == [path.name]
