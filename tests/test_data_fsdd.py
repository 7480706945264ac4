"""FSDD: the real recordings, the standard split, file name errors, missing folder."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.data import DataFormatError, DataNotFoundError, load_fsdd, write_wav


def test_real_split_sizes(data_root):
    train, test, everything = (load_fsdd(s, data_root) for s in ("train", "test", "all"))
    assert (len(train), len(test), len(everything)) == (2700, 300, 3000)
    assert {r.index for r in test} == set(range(5))
    assert min(r.index for r in train) == 5 and max(r.index for r in train) == 49
    assert {r.speaker for r in everything} == {
        "george",
        "jackson",
        "lucas",
        "nicolas",
        "theo",
        "yweweler",
    }
    assert not {r.path for r in train} & {r.path for r in test}


def test_real_audio_reads(data_root):
    recs = load_fsdd("test", data_root)
    for rec in recs[::50]:
        audio = rec.read()
        assert audio.dtype == np.float32 and audio.ndim == 1 and len(audio) > 0
        assert np.abs(audio).max() <= 1.0


def _make(tmp_path, names):
    d = tmp_path / "fsdd" / "recordings"
    d.mkdir(parents=True)
    for n in names:
        write_wav(d / n, np.zeros(8))
    return d


def test_small_tree_split_and_order(tmp_path):
    _make(tmp_path, ["1_bob_4.wav", "0_bob_7.wav", "0_amy_12.wav", "0_amy_3.wav"])
    (tmp_path / "fsdd" / "recordings" / "README.md").write_text("ignored")
    train = load_fsdd("train", tmp_path)
    assert [(r.speaker, r.digit, r.index) for r in train] == [("amy", 0, 12), ("bob", 0, 7)]
    assert [(r.digit, r.index) for r in load_fsdd("test", tmp_path)] == [(0, 3), (1, 4)]


def test_bad_name_is_an_error(tmp_path):
    _make(tmp_path, ["0_bob_1.wav", "zero-bob.wav"])
    with pytest.raises(DataFormatError, match="digit") as info:
        load_fsdd("all", tmp_path)
    assert "zero-bob.wav" in str(info.value)


def test_missing_folder(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_fsdd("train", tmp_path, download=False)
    msg = str(info.value)
    assert str(tmp_path / "fsdd" / "recordings") in msg and "free-spoken-digit-dataset" in msg


def test_bad_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_fsdd("val", tmp_path)


@pytest.mark.parametrize(
    "bad",
    ["10_bob_1.wav", "x_bob_1.wav", "-1_bob_1.wav", "1_bob_.wav", "1__1.wav", "1_bob_1.WAV.wav",
     "1_bob_1234567.wav", "1_b\u00f6b_1.wav", "\u0663_bob_1.wav"],
)
def test_names_that_do_not_parse_are_errors_not_labels(tmp_path, bad):
    _make(tmp_path, ["0_bob_1.wav", bad])
    with pytest.raises(DataFormatError, match="does not parse") as info:
        load_fsdd("all", tmp_path)
    assert bad in str(info.value)


def test_two_names_for_one_recording(tmp_path):
    _make(tmp_path, ["3_bob_7.wav", "3_bob_07.wav"])
    with pytest.raises(DataFormatError, match="same recording as 3_bob_07.wav") as info:
        load_fsdd("all", tmp_path)
    assert "3_bob_7.wav" in str(info.value)


def test_a_directory_named_like_a_recording(tmp_path):
    d = _make(tmp_path, ["3_bob_7.wav"])
    (d / "3_bob_8.wav").mkdir()
    with pytest.raises(DataFormatError, match="is a directory") as info:
        load_fsdd("all", tmp_path)
    assert "3_bob_8.wav" in str(info.value)


def test_build_shipped_subset_copies_the_chosen_takes(tmp_path):
    from lava_thesis.data.shipped_fsdd import build_shipped_fsdd

    d = _make(tmp_path / "full", ["0_bob_0.wav", "0_bob_5.wav", "1_bob_3.wav", "1_bob_6.wav"])
    assert build_shipped_fsdd(tmp_path / "full", root=tmp_path / "sub") == 3
    copied = tmp_path / "sub" / "fsdd" / "recordings"
    assert sorted(p.name for p in copied.iterdir()) == ["0_bob_0.wav", "0_bob_5.wav",
                                                         "1_bob_6.wav"]
    assert (copied / "1_bob_6.wav").read_bytes() == (d / "1_bob_6.wav").read_bytes()
