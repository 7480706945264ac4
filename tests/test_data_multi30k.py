"""Multi30k: real splits, uncompressed files, line-count mismatch, bad gzip, missing files."""

from __future__ import annotations

import gzip

import pytest

from lava_thesis.data import DataFormatError, DataNotFoundError, load_multi30k


def test_real_test_split(data_root):
    pairs = load_multi30k("test", "de", "en", data_root)
    assert len(pairs) == 1000
    assert pairs[0][1].startswith("A man in an orange hat")
    assert all(src and tgt for src, tgt in pairs)


def test_real_val_other_languages(data_root):
    assert len(load_multi30k("val", "en", "fr", data_root)) == 1014
    assert len(load_multi30k("test_2017_mscoco", "en", "de", data_root)) == 461


def _write(directory, name, lines, compress):
    directory.mkdir(parents=True, exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode()
    if compress:
        (directory / f"{name}.gz").write_bytes(gzip.compress(data))
    else:
        (directory / name).write_bytes(data)


def test_mixed_compression_and_unicode_breaks(tmp_path):
    d = tmp_path / "multi30k"
    _write(d, "val.de", ["Hallo\u0085Welt", "zwei"], compress=True)
    _write(d, "val.en", ["hello world\r", "two"], compress=False)
    assert load_multi30k("val", data_dir=tmp_path) == [
        ("Hallo\u0085Welt", "hello world"),
        ("zwei", "two"),
    ]


def test_line_count_mismatch_names_both_files(tmp_path):
    d = tmp_path / "multi30k"
    _write(d, "train.de", ["a", "b", "c"], compress=True)
    _write(d, "train.en", ["a", "b"], compress=True)
    with pytest.raises(DataFormatError) as info:
        load_multi30k("train", data_dir=tmp_path)
    msg = str(info.value)
    assert "train.en.gz" in msg and "train.de.gz" in msg and "2 lines" in msg and "has 3" in msg


def test_bad_gzip(tmp_path):
    d = tmp_path / "multi30k"
    _write(d, "train.de", ["a"], compress=True)
    (d / "train.en.gz").write_bytes(gzip.compress(b"a\n")[:-6])
    with pytest.raises(DataFormatError, match="gzip") as info:
        load_multi30k("train", data_dir=tmp_path)
    assert "train.en.gz" in str(info.value)


def test_bad_utf8(tmp_path):
    d = tmp_path / "multi30k"
    _write(d, "train.de", ["a"], compress=False)
    (d / "train.en").write_bytes(b"\xff\xfe\n")
    with pytest.raises(DataFormatError, match="UTF-8") as info:
        load_multi30k("train", data_dir=tmp_path)
    assert "train.en" in str(info.value)


def test_missing_files(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_multi30k("test", "fr", "en", tmp_path)
    msg = str(info.value)
    assert "test_2016_flickr.fr.gz" in msg and "test_2016_flickr.en.gz" in msg
    assert str(tmp_path / "multi30k") in msg


def test_bad_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_multi30k("dev", data_dir=tmp_path)
