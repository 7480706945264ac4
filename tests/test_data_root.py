"""Data root resolution and the two data errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from lava_thesis.data import ENV_VAR, DataFormatError, DataNotFoundError, resolve_data_dir


def test_explicit_dir_wins_over_env(tmp_path, monkeypatch):
    other = tmp_path / "env"
    other.mkdir()
    monkeypatch.setenv(ENV_VAR, str(other))
    assert resolve_data_dir(tmp_path) == tmp_path
    assert resolve_data_dir() == other


def test_cache_dir_default(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert resolve_data_dir() == tmp_path / "lava-thesis" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert resolve_data_dir() == Path.home() / ".cache" / "lava-thesis" / "data"


def test_missing_explicit_dir_names_it_and_its_source(tmp_path, monkeypatch):
    gone = tmp_path / "nope"
    with pytest.raises(DataNotFoundError, match="--data-dir") as info:
        resolve_data_dir(gone)
    assert str(gone) in str(info.value)
    monkeypatch.setenv(ENV_VAR, str(gone))
    with pytest.raises(FileNotFoundError, match=ENV_VAR) as info:
        resolve_data_dir()
    assert str(gone) in str(info.value)


def test_file_is_not_a_data_dir(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataFormatError, match="not a directory") as info:
        resolve_data_dir(f)
    assert str(f) in str(info.value) and "--data-dir" in str(info.value)


def test_error_messages_and_pickling(tmp_path):
    fmt = DataFormatError(tmp_path / "a.idx", "truncated", "IDX")
    assert isinstance(fmt, ValueError)
    assert "a.idx" in str(fmt) and "expected IDX" in str(fmt)
    nf = DataNotFoundError(tmp_path, ["x.gz", "y.gz"], "https://example.org/")
    assert isinstance(nf, FileNotFoundError)
    msg = str(nf)
    assert "x.gz" in msg and "y.gz" in msg and str(tmp_path) in msg and "example.org" in msg
    for err in (fmt, nf):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
