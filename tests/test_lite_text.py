"""Tokenizer, training-split vocabulary, unknown/padding ids, padding and truncation."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.lite.text import (
    BOS,
    EOS,
    PAD_ID,
    UNK_ID,
    Vocab,
    encode_sentences,
    pad_sequences,
    tokenize,
)


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("Don't BUY it!!  Great\u0085stuff :) 10/10") == [
        "don't", "buy", "it", "!", "!", "great", "stuff", ":", ")", "10", "/", "10"]
    assert tokenize("Café, naïve.") == ["café", ",", "naïve", "."]
    assert tokenize("   ") == []


def test_vocab_is_built_from_the_given_split_only():
    train = [tokenize("good good movie"), tokenize("bad movie"), tokenize("good plot")]
    vocab = Vocab.build(train)
    assert vocab.itos[:2] == ("<pad>", "<unk>") and (PAD_ID, UNK_ID) == (0, 1)
    assert vocab.itos[2:] == ("good", "movie", "bad", "plot")  # by count, ties alphabetical
    assert vocab.encode(["good", "awful", "plot"]) == [2, UNK_ID, 5]  # test-only word -> <unk>
    assert len(vocab) == 6 and vocab.stoi["movie"] == 3


def test_vocab_min_count_and_max_size():
    train = [tokenize("a a a b b c")]
    assert Vocab.build(train, min_count=2).itos == ("<pad>", "<unk>", "a", "b")
    assert Vocab.build(train, max_size=3).itos == ("<pad>", "<unk>", "a")
    assert Vocab.build(train, min_count=2).encode(["c"]) == [UNK_ID]
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build(train, max_size=1)
    with pytest.raises(ValueError, match="<pad>"):
        Vocab(("a", "<pad>", "<unk>"))


def test_extra_specials_follow_pad_and_unk():
    train = [tokenize("a a b c")]
    vocab = Vocab.build(train, specials=(BOS, EOS))
    assert vocab.itos == ("<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c")
    assert Vocab.build(train, max_size=5, specials=(BOS, EOS)).itos[4:] == ("a",)
    assert Vocab.build(train).itos == ("<pad>", "<unk>", "a", "b", "c")  # default unchanged
    with pytest.raises(ValueError, match="max_size >= 4"):
        Vocab.build(train, max_size=3, specials=(BOS, EOS))


def test_pad_and_truncate():
    ids, lengths = pad_sequences([[5, 6, 7], [8], [2, 3, 4, 5, 6]], max_len=4)
    assert ids.tolist() == [[5, 6, 7, 0], [8, 0, 0, 0], [2, 3, 4, 5]]
    assert lengths.tolist() == [3, 1, 4] and ids.dtype == lengths.dtype == np.int64


def test_empty_sequence_or_sentence_names_the_index():
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_sequences([[3], [], [4]], 5)
    with pytest.raises(ValueError, match="max_len"):
        pad_sequences([[3]], 0)
    vocab = Vocab.build([tokenize("fine words")])
    with pytest.raises(ValueError, match="sentence 2 has no tokens"):
        encode_sentences(["fine", "words", "  \t "], vocab, 5)


def test_encode_sentences():
    vocab = Vocab.build([tokenize("great food. bad service.")])
    ids, lengths = encode_sentences(["Great service!", "bad"], vocab, 3)
    assert lengths.tolist() == [3, 1]
    assert ids[0].tolist() == vocab.encode(["great", "service", "!"]) and ids[0, 2] == UNK_ID
    assert ids[1].tolist() == [vocab.stoi["bad"], PAD_ID, PAD_ID]


def test_real_sentences_all_have_tokens(data_root):
    from lava_thesis.data import load_sentiment

    sentences, _, _ = load_sentiment(data_root)
    vocab = Vocab.build(tokenize(s) for s in sentences[:100])
    ids, lengths = encode_sentences(sentences, vocab, 40)
    assert ids.shape == (3000, 40) and lengths.min() >= 1


def test_bom_and_line_endings_are_not_tokens():
    assert tokenize("\ufeffGood\r\nmovie\rok\n") == ["good", "movie", "ok"]
    assert tokenize("wo\ufeffrd") == ["word"]  # a zero-width no-break space inside a word
    assert tokenize("\ufeff") == []


def test_empty_training_text_is_an_error_not_an_empty_vocabulary():
    with pytest.raises(ValueError, match="no tokens"):
        Vocab.build([])
    with pytest.raises(ValueError, match="no tokens"):
        Vocab.build([tokenize(""), tokenize(" \r\n\ufeff")])
    with pytest.raises(ValueError, match="non-empty strings"):
        Vocab(("<pad>", "<unk>", ""))


def test_pad_sequences_refuses_bad_ids_and_huge_matrices():
    from lava_thesis.lite.text import MAX_PAD_ELEMENTS

    for bad in ([1, -2], [1, 2**64], [1.5], ["3"]):
        with pytest.raises(ValueError, match="sequence 1 holds ids"):
            pad_sequences([[3], bad], 4)
    with pytest.raises(ValueError, match="exceed"):
        pad_sequences([[3], [4]], MAX_PAD_ELEMENTS // 2 + 1)  # would be a 512 MiB matrix
    assert pad_sequences([[np.int64(3)]], 2)[0].tolist() == [[3, 0]]
