"""GloVe-format word vectors: the reader (streamed, vocabulary-filtered, validated) and the
embedding table built from them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lava_thesis.data.embeddings import embedding_matrix, read_word_vectors
from lava_thesis.data.errors import DataFormatError, DataNotFoundError

GLOVE = "the 0.1 0.2 0.3\ngood 1.0 -1.0 0.5\nbad -1 1 -0.5\ngood 9 9 9\n"


def test_reads_the_vocabulary_words_only(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(GLOVE)
    vectors = read_word_vectors(path, ["good", "bad", "film"])
    assert sorted(vectors) == ["bad", "good"]
    np.testing.assert_array_equal(vectors["good"], np.float32([1.0, -1.0, 0.5]))  # the first
    assert vectors["bad"].dtype == np.float32
    assert sorted(read_word_vectors(path)) == ["bad", "good", "the"]
    path.write_text("3 3\n" + GLOVE)  # word2vec's text format: a "<count> <dim>" first line
    assert sorted(read_word_vectors(path, dim=3)) == ["bad", "good", "the"]


@pytest.mark.parametrize(("text", "match"), [
    ("the 0.1 0.2\ngood 1.0\n", "line 2 .* has 1 numbers, expected 2"),
    ("the 0.1 zero\n", "line 1"),
    ("the 0.1 nan\n", "not finite"),
    ("the 0.1 1e39\n", "not finite in float32"),
    ("lonely\n", "not a word followed by numbers"),
    ("", "empty"),
])
def test_bad_files_name_the_line(tmp_path, text, match):
    path = tmp_path / "v.txt"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=match) as info:
        read_word_vectors(path)
    assert "v.txt" in str(info.value)


def test_encoding_length_dim_and_missing(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"caf\xe9 0.1 0.2\n")
    with pytest.raises(DataFormatError, match="not UTF-8"):
        read_word_vectors(path)
    path.write_text("the " + " ".join(["0.1"] * 20000) + "\n")
    with pytest.raises(DataFormatError, match="longer than"):
        read_word_vectors(path)
    path.write_text("the 0.1 0.2\n")
    with pytest.raises(DataFormatError, match="has 2 numbers, expected 100"):
        read_word_vectors(path, dim=100)
    with pytest.raises(DataNotFoundError):
        read_word_vectors(tmp_path / "none.txt")
    with pytest.raises(DataFormatError, match="not a regular file"):
        read_word_vectors(tmp_path)


def test_embedding_matrix_uses_the_vectors_and_zeros_padding():
    vectors = {"good": np.float32([1, 2]), "bad": np.float32([-1, -2])}
    table, coverage = embedding_matrix(["<pad>", "<unk>", "good", "film", "bad"], vectors, 2)
    assert table.shape == (5, 2) and table.dtype == np.float32
    assert not table[0].any() and coverage == 0.5  # 2 of the 4 non-padding words
    np.testing.assert_array_equal(table[2], [1, 2])
    np.testing.assert_array_equal(table[4], [-1, -2])
    again, _ = embedding_matrix(["<pad>", "<unk>", "good", "film", "bad"], vectors, 2)
    np.testing.assert_array_equal(table, again)  # seeded
    with pytest.raises(ValueError, match="embedding dim is 3"):
        embedding_matrix(["<pad>", "good"], vectors, 3)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_give_vectors_or_one_clear_error(tmp_path, data):
    path = tmp_path / "fuzz.txt"
    path.write_bytes(data)
    try:
        vectors = read_word_vectors(path)
    except DataFormatError as err:
        assert "fuzz.txt" in str(err)
        return
    lengths = {v.shape for v in vectors.values()}
    assert len(lengths) <= 1
    assert all(np.isfinite(v).all() for v in vectors.values())
