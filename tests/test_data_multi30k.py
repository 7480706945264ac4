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
        load_multi30k("test", "fr", "en", tmp_path, download=False)
    msg = str(info.value)
    assert "test_2016_flickr.fr.gz" in msg and "test_2016_flickr.en.gz" in msg
    assert str(tmp_path / "multi30k") in msg


def test_bad_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_multi30k("dev", data_dir=tmp_path)


def test_bom_crlf_and_cr_only_line_endings(tmp_path):
    d = tmp_path / "multi30k"
    d.mkdir()
    (d / "val.de").write_bytes(b"\xef\xbb\xbfeins\r\nzwei\r\n")
    (d / "val.en.gz").write_bytes(gzip.compress(b"\xef\xbb\xbfone\rtwo"))
    assert load_multi30k("val", data_dir=tmp_path) == [("eins", "one"), ("zwei", "two")]


def test_gzip_bomb_fails_cleanly_at_the_limit(tmp_path):
    from lava_thesis.data.multi30k import read_lines

    bomb = tmp_path / "train.en.gz"
    bomb.write_bytes(gzip.compress(b"a man.\n" * 300_000))  # 2.1 MB in a 10 kB file
    assert len(read_lines(bomb)) == 300_000  # within the default 32 MiB
    with pytest.raises(DataFormatError, match="decompresses to more than the limit of 100000"):
        read_lines(bomb, max_bytes=100_000)
    with pytest.raises(DataFormatError, match="more than the limit of 1000") as info:
        read_lines(bomb, max_bytes=1000)  # the compressed file itself is over the limit
    assert "train.en.gz" in str(info.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty file"),
        (b"\xef\xbb\xbf", "empty file"),
        (gzip.compress(b""), "empty file"),
        (b"a\n\nb\n", "line 2 is blank"),
        (b"a\r\n \r\n", "line 2 is blank"),
        (b"a\n\xef\xbb\xbf\n", "line 2 is blank"),  # only U+FEFF: no tokens
        (b"a\n \xef\xbb\xbf\t\n", "line 2 is blank"),
        (b"ok\rfine\n\xc3\x28 bad\n", "invalid UTF-8 at line 3"),
        (b"ok\nbin\x00ary\n", "control character U\\+0000 at line 2"),
    ],
)
def test_bad_text_names_file_and_line(tmp_path, content, match):
    d = tmp_path / "multi30k"
    _write(d, "val.de", ["a", "b"], compress=False)
    (d / "val.en").write_bytes(content)
    with pytest.raises(DataFormatError, match=match) as info:
        load_multi30k("val", data_dir=tmp_path)
    assert "val.en" in str(info.value)


def test_directory_in_place_of_a_file(tmp_path):
    d = tmp_path / "multi30k"
    _write(d, "val.de", ["a"], compress=False)
    (d / "val.en").mkdir()
    with pytest.raises(DataFormatError, match="is a directory") as info:
        load_multi30k("val", data_dir=tmp_path)
    assert "val.en" in str(info.value)


def test_default_limit_bounds_the_memory_of_a_gzip_bomb(tmp_path):
    import tracemalloc
    import zlib

    from lava_thesis.data.bounded_read import MAX_TEXT_BYTES

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    block = b"\0" * 2**20
    body = b"".join(packer.compress(block) for _ in range(MAX_TEXT_BYTES // 2**20 + 8))
    d = tmp_path / "multi30k"
    _write(d, "val.de", ["a"], compress=False)
    (d / "val.en.gz").write_bytes(body + packer.flush())  # ~40 kB -> 40 MiB
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="decompresses to more than the limit"):
            load_multi30k("val", data_dir=tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MAX_TEXT_BYTES  # it used to inflate everything (2 GB for a 1 MB bomb)
