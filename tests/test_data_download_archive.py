"""Zip data sets (FSDD, UCI sentiment, N-MNIST) and Multi30k files: download on first use from a
local HTTP server, safe extraction, contents checks, and clear errors when offline.

The real sources' checksums are also checked against the real data where it is available.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from download_server import closed_port, listing, sha256_hex, zip_bytes

import lava_thesis.data.fsdd as fsdd_mod
import lava_thesis.data.multi30k as multi30k_mod
import lava_thesis.data.nmnist as nmnist_mod
import lava_thesis.data.sentiment as sentiment_mod
from lava_thesis.data import (
    DataFormatError,
    DataNotFoundError,
    RemoteFile,
    load_fsdd,
    load_multi30k,
    load_nmnist,
    load_sentiment,
    make_events,
    sources,
    write_nmnist_bin,
    write_wav,
)
from lava_thesis.data.archive import ArchiveSource, ensure_archive, manifest_sha256


def _source(url: str, **kw) -> ArchiveSource:
    base = dict(path="s.zip", url=url, folder=".", contents="x_labelled.txt",
                member_glob="*_labelled.txt")
    return ArchiveSource(**(base | kw))


GOOD = b"good\t1\n"


def test_members_verified_junk_skipped_archive_removed(tmp_path, server):
    state, base = server
    state.files["/s.zip"] = zip_bytes({
        "pkg/x_labelled.txt": GOOD, "pkg/readme.txt": b"r", "__MACOSX/pkg/._x_labelled.txt": b"m",
    })
    src = _source(base + "/s.zip", members=(("x_labelled.txt", sha256_hex(GOOD)),), count=1)
    assert ensure_archive(tmp_path / "d", src) == tmp_path / "d"
    assert listing(tmp_path) == ["d", "d/x_labelled.txt"]  # no archive, no temp folder
    assert (tmp_path / "d" / "x_labelled.txt").read_bytes() == GOOD


@pytest.mark.parametrize(("kw", "match"), [
    ({"members": (("x_labelled.txt", "0" * 64),)}, "x_labelled.txt has sha256"),
    ({"members": (("y_labelled.txt", sha256_hex(GOOD)),)}, "no member y_labelled.txt"),
    ({"manifest": "0" * 64}, "manifest sha256"),
    ({"manifest": manifest_sha256({"x_labelled.txt": sha256_hex(GOOD)}), "count": 2}, "1 files"),
    ({"sha256": "0" * 64}, "checksum mismatch"),
    ({"md5": "0" * 32, "max_file_bytes": 3}, "checksum mismatch"),
])
def test_failed_check_leaves_nothing(tmp_path, server, kw, match):
    state, base = server
    state.files["/s.zip"] = zip_bytes({"pkg/x_labelled.txt": GOOD})
    with pytest.raises(DataFormatError, match=match) as info:
        ensure_archive(tmp_path / "d", _source(base + "/s.zip", **kw))
    assert "s.zip" in str(info.value)
    assert listing(tmp_path) in ([], ["d"])  # neither the archive nor any extracted file


def test_manifest_check_passes(tmp_path, server):
    state, base = server
    wavs = {"0_a_1.wav": b"one", "1_a_2.wav": b"two"}
    state.files["/r.zip"] = zip_bytes({f"repo-1.0/recordings/{k}": v for k, v in wavs.items()}
                                      | {"repo-1.0/README.md": b"readme"})
    src = _source(base + "/r.zip", path="r.zip", folder="recordings",
                  member_glob="*/recordings/*.wav", count=2,
                  manifest=manifest_sha256({k: sha256_hex(v) for k, v in wavs.items()}))
    ensure_archive(tmp_path, src)
    assert listing(tmp_path) == ["recordings", "recordings/0_a_1.wav", "recordings/1_a_2.wav"]


@pytest.mark.parametrize("bad", ["../evil_labelled.txt", "/abs_labelled.txt",
                                 "pkg/..\\evil_labelled.txt", "link"])
def test_unsafe_member_refused(tmp_path, bad):
    data = tmp_path / "d"
    data.mkdir()
    members = {"pkg/x_labelled.txt": GOOD}
    if bad != "link":
        members[bad] = b"evil\t1\n"
    links = ("pkg/l_labelled.txt",) if bad == "link" else ()
    (data / "s.zip").write_bytes(zip_bytes(members, links=links))
    src = _source("http://127.0.0.1:1/unused", members=(("x_labelled.txt", sha256_hex(GOOD)),))
    with pytest.raises(DataFormatError, match="unsafe member"):
        ensure_archive(data, src, download=False)
    assert listing(tmp_path) == ["d", "d/s.zip"]  # a user's own archive is left alone


def test_oversized_member_refused(tmp_path):
    (tmp_path / "s.zip").write_bytes(zip_bytes({"x_labelled.txt": GOOD * 10}))
    src = _source("http://127.0.0.1:1/unused", sha256=sha256_hex(b""), max_file_bytes=len(GOOD))
    with pytest.raises(DataFormatError, match="70 bytes"):
        ensure_archive(tmp_path, src)
    assert listing(tmp_path) == ["s.zip"]


def test_files_already_there_are_kept(tmp_path, server):
    state, base = server
    state.files["/s.zip"] = zip_bytes({"a_labelled.txt": GOOD, "b_labelled.txt": GOOD})
    (tmp_path / "a_labelled.txt").write_bytes(b"mine\t0\n")
    src = _source(base + "/s.zip", count=2, members=(("b_labelled.txt", sha256_hex(GOOD)),))
    ensure_archive(tmp_path, src)
    assert (tmp_path / "a_labelled.txt").read_bytes() == b"mine\t0\n"
    assert listing(tmp_path) == ["a_labelled.txt", "b_labelled.txt"]


def test_mirror_tried_when_the_first_archive_fails_its_check(tmp_path, server):
    state, base = server
    state.files["/old.zip"] = zip_bytes({"x_labelled.txt": b"old\t0\n"})
    state.files["/new.zip"] = zip_bytes({"x_labelled.txt": GOOD})
    src = _source(base + "/old.zip", mirrors=(base + "/gone.zip", base + "/new.zip"),
                  members=(("x_labelled.txt", sha256_hex(GOOD)),))
    ensure_archive(tmp_path, src)
    assert listing(tmp_path) == ["x_labelled.txt"]
    assert [(path, status) for path, _, status in state.log] == [
        ("/old.zip", 200), ("/gone.zip", 404), ("/new.zip", 200)]
    with pytest.raises(DataFormatError, match="sha256"):  # no good copy anywhere: the check
        ensure_archive(tmp_path / "again", dataclasses.replace(src, mirrors=()))
    assert not (tmp_path / "again").exists() or listing(tmp_path / "again") == []


def test_interrupted_archive_download_resumes(tmp_path, server):
    state, base = server
    state.files["/s.zip"] = data = zip_bytes({"x_labelled.txt": GOOD * 50})
    state.drop_after["/s.zip"] = 100
    src = _source(base + "/s.zip", members=(("x_labelled.txt", sha256_hex(GOOD * 50)),))
    with pytest.raises(DataNotFoundError, match=f"100 of {len(data)} bytes"):
        ensure_archive(tmp_path, src)
    (part,) = tmp_path.glob("s.zip.*.part")  # one partial file, for that URL
    assert part.read_bytes() == data[:100]
    ensure_archive(tmp_path, src)
    assert [rng for _, rng, _ in state.log] == [None, "bytes=100-"]
    assert listing(tmp_path) == ["x_labelled.txt"]


def test_a_source_needs_a_check():
    with pytest.raises(ValueError, match="checksum"):
        ArchiveSource("a.zip", "http://x/a.zip", ".", "files", "*")


# --- the loaders -------------------------------------------------------------------------------

def _wav(tmp_path: Path, name: str) -> bytes:
    path = write_wav(tmp_path / "w" / name, np.zeros(80, np.float32), 8000)
    return Path(path).read_bytes()


def _bin(tmp_path: Path, name: str) -> bytes:
    ev = make_events(np.array([1, 2]), np.array([3, 4]), np.array([10, 20]), np.array([0, 1]))
    return Path(write_nmnist_bin(tmp_path / "b" / name, ev)).read_bytes()


def _serve_fsdd(tmp_path, monkeypatch, state, base):
    wavs = {n: _wav(tmp_path, n) for n in ("0_amy_1.wav", "1_amy_7.wav")}
    state.files["/fsdd.zip"] = zip_bytes(
        {f"free-spoken-digit-dataset-1.0.10/recordings/{n}": b for n, b in wavs.items()})
    monkeypatch.setattr(fsdd_mod, "FSDD", dataclasses.replace(
        sources.FSDD, url=base + "/fsdd.zip", mirrors=(), count=2,
        manifest=manifest_sha256({n: sha256_hex(b) for n, b in wavs.items()})))


def _serve_sentiment(tmp_path, monkeypatch, state, base):
    files = {f"{s}_labelled.txt": f"{s} text\t1\n".encode() for s in sentiment_mod.SOURCES}
    state.files["/s.zip"] = zip_bytes({f"sentiment labelled sentences/{n}": b
                                       for n, b in files.items()})
    monkeypatch.setattr(sentiment_mod, "SENTIMENT", dataclasses.replace(
        sources.SENTIMENT, url=base + "/s.zip",
        members=tuple((n, sha256_hex(b)) for n, b in files.items())))


def _serve_nmnist(tmp_path, monkeypatch, state, base):
    state.files["/t.zip"] = zip_bytes({f"Test/7/0000{i}.bin": _bin(tmp_path, f"{i}.bin")
                                       for i in (1, 2)})
    md5 = hashlib.md5(state.files["/t.zip"]).hexdigest()
    monkeypatch.setattr(nmnist_mod, "NMNIST_TEST", dataclasses.replace(
        sources.NMNIST_TEST, url=base + "/t.zip", md5=md5, count=2))


def _serve_multi30k(tmp_path, monkeypatch, state, base):
    for lang in ("de", "en"):
        state.files[f"/val.{lang}.gz"] = gzip.compress(f"{lang} one\n{lang} two\n".encode())
    monkeypatch.setattr(multi30k_mod, "multi30k_file", lambda name: RemoteFile(
        name, f"{base}/{name}", sha256=sha256_hex(state.files[f"/{name}"])))


def test_loaders_download_on_first_use(tmp_path, server, monkeypatch):
    state, base = server
    for serve_one in (_serve_fsdd, _serve_sentiment, _serve_nmnist, _serve_multi30k):
        serve_one(tmp_path, monkeypatch, state, base)
    root = tmp_path / "root"
    root.mkdir()
    assert [(r.digit, r.index) for r in load_fsdd("all", root)] == [(0, 1), (1, 7)]
    sentences, labels, _ = load_sentiment(root, sources=("yelp",))
    assert sentences == ["yelp text"] and labels.tolist() == [1]
    assert [s.label for s in load_nmnist("test", root)] == [7, 7]
    assert load_multi30k("val", data_dir=root) == [("de one", "en one"), ("de two", "en two")]
    assert listing(root) == [
        "fsdd", "fsdd/recordings", "fsdd/recordings/0_amy_1.wav", "fsdd/recordings/1_amy_7.wav",
        "multi30k", "multi30k/val.de.gz", "multi30k/val.en.gz",
        "nmnist", "nmnist/Test", "nmnist/Test/7", "nmnist/Test/7/00001.bin",
        "nmnist/Test/7/00002.bin", "sentiment", "sentiment/amazon_cells_labelled.txt",
        "sentiment/imdb_labelled.txt", "sentiment/yelp_labelled.txt",
    ]
    n_requests = len(state.log)
    load_fsdd("all", root), load_sentiment(root), load_nmnist("test", root)
    assert len(state.log) == n_requests  # found locally the second time


def _call(name: str, root: Path, download: bool):
    if name == "fsdd":
        return load_fsdd("train", root, download=download)
    if name == "sentiment":
        return load_sentiment(root, download=download)
    if name == "nmnist":
        return load_nmnist("test", root, download=download)
    return load_multi30k("val", data_dir=root, download=download)


# loader -> (folder, a file name the message must give)
_EXPECT = {
    "fsdd": ("fsdd/recordings", "{digit}_{speaker}_{index}.wav"),
    "sentiment": ("sentiment", "amazon_cells_labelled.txt"),
    "nmnist": ("nmnist/Test", "*.bin"),
    "multi30k": ("multi30k", "val.de.gz"),
}


@pytest.mark.parametrize("download", [True, False])
@pytest.mark.parametrize("name", sorted(_EXPECT))
def test_offline_loaders_say_what_to_put_where(tmp_path, monkeypatch, name, download):
    url = f"http://127.0.0.1:{closed_port()}/data.zip"
    for mod, attr in ((fsdd_mod, "FSDD"), (sentiment_mod, "SENTIMENT"),
                      (nmnist_mod, "NMNIST_TEST")):
        monkeypatch.setattr(mod, attr, dataclasses.replace(getattr(mod, attr), url=url,
                                                           mirrors=()))
    monkeypatch.setattr(multi30k_mod, "multi30k_file", lambda n: RemoteFile(n, url, md5="0" * 32))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DataNotFoundError) as info:
        _call(name, root, download)
    msg = str(info.value)
    folder, file_name = _EXPECT[name]
    assert str(root / folder) in msg and file_name in msg and url in msg
    assert ("download disabled" if not download else "Connection refused") in msg
    assert not [p for p in root.rglob("*") if p.is_file()]


# --- the real sources agree with the real data -------------------------------------------------

def test_multi30k_checksums_match_the_real_files(data_root):
    files = sorted((data_root / "multi30k").glob("*.gz"))
    assert {p.name: sha256_hex(p.read_bytes()) for p in files} == dict(sources.MULTI30K_SHA256)
    remote = sources.multi30k_file("val.de.gz")
    assert remote is not None and sources.MULTI30K_COMMIT in remote.url
    assert sources.multi30k_file("val.xx.gz") is None


def test_real_sentiment_source_accepts_the_real_files(tmp_path, server, data_root):
    state, base = server
    real = data_root / "sentiment"
    state.files["/uci.zip"] = zip_bytes(
        {f"sentiment labelled sentences/{p.name}": p.read_bytes() for p in real.iterdir()}
        | {"__MACOSX/sentiment labelled sentences/._imdb_labelled.txt": b"\0"})
    ensure_archive(tmp_path / "s", dataclasses.replace(sources.SENTIMENT, url=base + "/uci.zip"))
    assert listing(tmp_path / "s") == [n for n, _ in sources.SENTIMENT.members]


def test_fsdd_manifest_matches_the_real_recordings(data_root):
    recordings = sorted((data_root / "fsdd" / "recordings").glob("*.wav"))
    assert len(recordings) == sources.FSDD.count == 3000
    digests = {p.name: sha256_hex(p.read_bytes()) for p in recordings}
    assert manifest_sha256(digests) == sources.FSDD.manifest == sources.FSDD_MANIFEST_SHA256
