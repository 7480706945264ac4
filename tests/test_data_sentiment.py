"""Sentiment labelled sentences and the seeded split helpers."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.data import (
    DataFormatError,
    DataNotFoundError,
    kfold,
    load_sentiment,
    train_test_split,
)
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize


def test_real_sentences(data_root):
    sentences, labels, source_ids = load_sentiment(data_root)
    assert len(sentences) == 3000 and labels.shape == source_ids.shape == (3000,)
    assert labels.dtype == source_ids.dtype == np.int64
    assert np.bincount(labels).tolist() == [1500, 1500]
    assert np.bincount(source_ids).tolist() == [1000, 1000, 1000]
    assert sentences[0].startswith("A very, very, very slow-moving")
    assert all("\t" not in s and s == s.strip() for s in sentences)


def test_source_subset_order(data_root):
    sentences, _, ids = load_sentiment(data_root, sources=("yelp", "imdb"))
    assert len(sentences) == 2000 and ids[0] == 0 and ids[-1] == 1
    assert sentences[0] == "Wow... Loved this place."


@pytest.mark.parametrize(
    ("line", "lineno"),
    [("no tab here 1", 2), ("bad label\t2", 2), ("\t1", 2), ("\ufeff \t1", 2)],
)
def test_malformed_line(tmp_path, line, lineno):
    d = tmp_path / "sentiment"
    d.mkdir()
    (d / "yelp_labelled.txt").write_text(f"good\t1\n{line}\nbad\t0\n")
    with pytest.raises(DataFormatError, match=f"line {lineno}") as info:
        load_sentiment(tmp_path, sources=("yelp",))
    assert "yelp_labelled.txt" in str(info.value)


def test_blank_lines_and_crlf(tmp_path):
    d = tmp_path / "sentiment"
    d.mkdir()
    (d / "imdb_labelled.txt").write_bytes(b"fine  \t1\r\n\n  \nawful\t0")
    sentences, labels, _ = load_sentiment(tmp_path, sources=("imdb",))
    assert sentences == ["fine", "awful"] and labels.tolist() == [1, 0]


def test_lines_of_only_byte_order_marks_are_blank(tmp_path):
    # U+FEFF is invisible and the tokenizer drops it: such a line is blank, not a sentence
    # without tokens (which would stop encode_sentences later)
    d = tmp_path / "sentiment"
    d.mkdir()
    (d / "imdb_labelled.txt").write_text("fine\t1\n\ufeff\n \ufeff \nawful\t0\n")
    sentences, labels, _ = load_sentiment(tmp_path, sources=("imdb",))
    assert sentences == ["fine", "awful"] and labels.tolist() == [1, 0]
    vocab = Vocab.build(tokenize(x) for x in sentences)
    assert encode_sentences(sentences, vocab, 4)[1].tolist() == [1, 1]


def test_missing_and_unknown(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_sentiment(tmp_path, download=False)
    assert "amazon_cells_labelled.txt" in str(info.value)
    assert str(tmp_path / "sentiment") in str(info.value)
    with pytest.raises(ValueError, match="twitter"):
        load_sentiment(tmp_path, sources=("twitter",))


def test_train_test_split_is_seeded_partition():
    train, test = train_test_split(103, 0.2, seed=1)
    assert len(test) == 21 and len(train) == 82
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(103))
    again = train_test_split(103, 0.2, seed=1)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(train_test_split(103, 0.2, seed=2)[1], test)


def test_kfold_covers_everything_once():
    folds = kfold(10, k=3, seed=0)
    tests = [t for _, t in folds]
    assert sorted(len(t) for t in tests) == [3, 3, 4]
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(10))
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == 10
    with pytest.raises(ValueError):
        kfold(10, k=1)


def _files(tmp_path, **contents: bytes):
    d = tmp_path / "sentiment"
    d.mkdir(exist_ok=True)
    for source, content in contents.items():
        (d / f"{source}_labelled.txt").write_bytes(content)
    return d


def test_bom_and_cr_only_line_endings(tmp_path):
    _files(tmp_path, yelp=b"\xef\xbb\xbfnice\t1\rmeh\t0\r", imdb=b"ok\t1\r\nno\t0\r\n")
    sentences, labels, ids = load_sentiment(tmp_path, sources=("yelp", "imdb"))
    assert sentences == ["nice", "meh", "ok", "no"]
    assert labels.tolist() == [1, 0, 1, 0] and ids.tolist() == [0, 0, 1, 1]


def test_a_missing_source_is_an_error_not_fewer_sentences(tmp_path):
    _files(tmp_path, imdb=b"a\t1\n", yelp=b"b\t0\n")  # amazon_cells is missing
    with pytest.raises(DataNotFoundError) as info:
        load_sentiment(tmp_path, download=False)
    assert "amazon_cells_labelled.txt" in str(info.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty file"),
        (b"\xef\xbb\xbf", "empty file"),
        (b"\n \r\n\t\n", "no labelled sentences"),
        (b"good\t1\ntwo\ttabs\t0\n", "line 2"),
        (b"good\t1\rbad\t-1\r", "line 2"),
        (b"good\t1\nbad\t\n", "line 2"),
        (b"good\t1\nbad\t0.0\n", "line 2"),
        (b"good\t1\n\xff\t0\n", "invalid UTF-8 at line 2"),
        (b"good\t1\nbin\x01\t0\n", "control character U\\+0001 at line 2"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, content, match):
    _files(tmp_path, amazon_cells=content)
    with pytest.raises(DataFormatError, match=match) as info:
        load_sentiment(tmp_path, sources=("amazon_cells",))
    assert "amazon_cells_labelled.txt" in str(info.value)


def test_directory_in_place_of_a_file_and_repeated_sources(tmp_path):
    (_files(tmp_path) / "imdb_labelled.txt").mkdir()
    with pytest.raises(DataFormatError, match="is a directory") as info:
        load_sentiment(tmp_path, sources=("imdb",))
    assert "imdb_labelled.txt" in str(info.value)
    with pytest.raises(ValueError, match="distinct"):
        load_sentiment(tmp_path, sources=("yelp", "yelp"))
