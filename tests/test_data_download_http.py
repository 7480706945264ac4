"""Downloads over real HTTP from a local server: verified, atomic, resumable, clear errors.

The server (tests/download_server.py) serves byte strings on 127.0.0.1, honours
``Range: bytes=N-`` requests, and can be told to drop a connection midway or to ignore ranges.
"""

from __future__ import annotations

import hashlib

import pytest
from download_server import closed_port, listing, sha256_hex

from lava_thesis.data import DataFormatError, DataNotFoundError, RemoteFile, ensure_files
from lava_thesis.data.download import part_path

DATA = bytes(range(256)) * 40  # 10,240 bytes






@pytest.mark.parametrize("tqdm_disable", ["1", "0"])
def test_good_file_is_verified_and_in_place(tmp_path, server, monkeypatch, capfd, tqdm_disable):
    state, base = server
    monkeypatch.setenv("TQDM_DISABLE", tqdm_disable)
    state.files["/d/blob.bin"] = DATA
    out = tmp_path / "data"
    remote = RemoteFile("sub/blob.bin", base + "/d/blob.bin", sha256=sha256_hex(DATA))
    assert ensure_files(out, [remote]) == [out / "sub" / "blob.bin"]
    assert (out / "sub" / "blob.bin").read_bytes() == DATA
    assert listing(out) == ["sub", "sub/blob.bin"]  # no .part, no temp file
    assert state.log == [("/d/blob.bin", None, 200)]
    err = capfd.readouterr().err
    assert ("blob.bin" in err) == (tqdm_disable == "0")  # the bar shows only when enabled
    assert ensure_files(out, [remote], download=False)[0].read_bytes() == DATA  # no refetch
    assert len(state.log) == 1


def test_md5_only_source(tmp_path, server):
    state, base = server
    state.files["/a"] = DATA
    remote = RemoteFile("a.bin", base + "/a", md5=hashlib.md5(DATA).hexdigest())
    assert ensure_files(tmp_path, [remote])[0].read_bytes() == DATA


def test_bad_checksum_leaves_nothing(tmp_path, server):
    state, base = server
    state.files["/blob"] = DATA
    out = tmp_path / "data"
    with pytest.raises(DataFormatError, match="checksum mismatch") as info:
        ensure_files(out, [RemoteFile("blob.bin", base + "/blob", sha256="0" * 64)])
    assert "blob.bin" in str(info.value) and base + "/blob" in str(info.value)
    assert listing(out) == []


def test_interrupted_transfer_resumes_with_range(tmp_path, server):
    state, base = server
    state.files["/big"] = DATA
    state.drop_after["/big"] = 3000
    remote = RemoteFile("big.bin", base + "/big", sha256=sha256_hex(DATA))
    with pytest.raises(DataNotFoundError, match="3000 of 10240 bytes") as info:
        ensure_files(tmp_path, [remote])
    assert "big.bin" in str(info.value) and str(tmp_path) in str(info.value)
    assert not (tmp_path / "big.bin").exists()
    assert part_path(tmp_path / "big.bin").read_bytes() == DATA[:3000]  # kept for resuming
    assert ensure_files(tmp_path, [remote])[0].read_bytes() == DATA
    assert state.log == [("/big", None, 200), ("/big", "bytes=3000-", 206)]
    assert listing(tmp_path) == ["big.bin"]


def test_resumed_bytes_that_do_not_match_are_removed(tmp_path, server):
    state, base = server
    state.files["/f"] = DATA
    part_path(tmp_path / "f.bin").write_bytes(b"x" * 100)  # not a prefix of the real file
    remote = RemoteFile("f.bin", base + "/f", sha256=sha256_hex(DATA))
    with pytest.raises(DataFormatError, match="checksum mismatch"):
        ensure_files(tmp_path, [remote])
    assert listing(tmp_path) == []
    assert ensure_files(tmp_path, [remote])[0].read_bytes() == DATA  # a clean restart works
    assert [entry[1:] for entry in state.log] == [("bytes=100-", 206), (None, 200)]


def test_server_ignoring_range_restarts_cleanly(tmp_path, server):
    state, base = server
    state.files["/f"] = DATA
    state.ignore_range.add("/f")
    part_path(tmp_path / "f.bin").write_bytes(b"stale bytes from another attempt")
    remote = RemoteFile("f.bin", base + "/f", sha256=sha256_hex(DATA))
    assert ensure_files(tmp_path, [remote])[0].read_bytes() == DATA
    assert state.log == [("/f", "bytes=32-", 200)]
    assert listing(tmp_path) == ["f.bin"]


def test_part_longer_than_the_file_restarts(tmp_path, server):
    state, base = server
    state.files["/f"] = DATA[:50]
    part_path(tmp_path / "f.bin").write_bytes(b"y" * 80)
    remote = RemoteFile("f.bin", base + "/f", sha256=sha256_hex(DATA[:50]))
    assert ensure_files(tmp_path, [remote])[0].read_bytes() == DATA[:50]
    assert [entry[2] for entry in state.log] == [416, 200]


def test_404_names_the_url_and_tries_the_mirror(tmp_path, server):
    state, base = server
    remote = RemoteFile("gone.bin", base + "/gone", sha256=sha256_hex(DATA))
    with pytest.raises(DataNotFoundError) as info:
        ensure_files(tmp_path / "d", [remote])
    msg = str(info.value)
    assert base + "/gone" in msg and "404" in msg and "gone.bin" in msg
    assert str(tmp_path / "d") in msg
    assert not (tmp_path / "d").exists()
    state.files["/mirror"] = DATA
    remote = RemoteFile("gone.bin", base + "/gone", sha256=sha256_hex(DATA),
                        mirrors=(base + "/mirror",))
    assert ensure_files(tmp_path / "d", [remote])[0].read_bytes() == DATA


def test_unreachable_server_is_a_clear_not_found(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/x.gz"
    with pytest.raises(DataNotFoundError, match="download failed") as info:
        ensure_files(tmp_path, [RemoteFile("x.gz", url, sha256="0" * 64)], timeout=2)
    assert url in str(info.value) and "x.gz" in str(info.value)
    assert listing(tmp_path) == []
