"""ensure_files: file:// downloads with good and bad checksums, unreachable URLs, no download."""

from __future__ import annotations

import hashlib

import pytest

from lava_thesis.data import DataFormatError, DataNotFoundError, RemoteFile, ensure_files


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "remote" / "blob.bin"
    src.parent.mkdir()
    src.write_bytes(b"lava" * 1000)
    return src


def test_download_with_good_md5_and_sha256(tmp_path, source):
    data = source.read_bytes()
    files = [
        RemoteFile("a.bin", source.as_uri(), md5=hashlib.md5(data).hexdigest()),
        RemoteFile("sub/b.bin", source.as_uri(), sha256=hashlib.sha256(data).hexdigest()),
    ]
    out = tmp_path / "local"
    paths = ensure_files(out, files)
    assert paths == [out / "a.bin", out / "sub" / "b.bin"]
    assert all(p.read_bytes() == data for p in paths)
    assert sorted(p.name for p in out.rglob("*")) == ["a.bin", "b.bin", "sub"]  # no temp files
    # present files are not fetched again, even with download disabled
    assert ensure_files(out, files, download=False) == paths


def test_bad_checksum_removes_file(tmp_path, source):
    out = tmp_path / "local"
    with pytest.raises(DataFormatError, match="checksum mismatch") as info:
        ensure_files(out, [RemoteFile("a.bin", source.as_uri(), md5="0" * 32)])
    assert "a.bin" in str(info.value)
    assert not list(out.iterdir())


def test_mirror_used_when_first_url_fails(tmp_path, source):
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    bad = (tmp_path / "missing.bin").as_uri()
    remote = RemoteFile("a.bin", bad, md5=md5, mirrors=(source.as_uri(),))
    assert ensure_files(tmp_path / "local", [remote])[0].is_file()


@pytest.mark.parametrize("url", ["file:///nonexistent/lava/x.gz", "http://127.0.0.1:9/x.gz"])
def test_unreachable_lists_every_missing_file(tmp_path, url):
    files = [RemoteFile(n, url + n, md5="0" * 32) for n in ("x.gz", "y.gz")]
    with pytest.raises(DataNotFoundError) as info:
        ensure_files(tmp_path, files, timeout=2)
    msg = str(info.value)
    assert "x.gz" in msg and "y.gz" in msg and str(tmp_path) in msg and "download failed" in msg
    assert not list(tmp_path.iterdir())


def test_download_disabled(tmp_path):
    (tmp_path / "have.gz").write_bytes(b"")
    files = [RemoteFile(n, f"https://example.org/{n}", md5="0" * 32) for n in ("have.gz", "y.gz")]
    with pytest.raises(DataNotFoundError) as info:
        ensure_files(tmp_path, files, download=False)
    msg = str(info.value)
    assert "y.gz" in msg and "have.gz" not in msg.split("(download")[0]
    assert "https://example.org/y.gz" in msg and str(tmp_path) in msg


def test_remote_file_needs_checksum():
    with pytest.raises(ValueError, match="checksum"):
        RemoteFile("a", "file:///a")
