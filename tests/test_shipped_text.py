"""The text samples shipped in the package: loadable by the real loaders, attributed, packaged,
and exactly what build_shipped_text writes from the full data sets."""

import fnmatch
import gzip

import numpy as np
import pytest
import tomllib
from conftest import REPO

from lava_thesis.data import load_multi30k, load_sentiment
from lava_thesis.data.errors import DataNotFoundError
from lava_thesis.data.shipped_text import build_shipped_text, shipped_text_root
from lava_thesis.lite.text import tokenize

SHIPPED = REPO / "lava_thesis" / "data" / "shipped"


def test_shipped_sentiment_loads_balanced_per_source_and_label():
    sentences, labels, sources = load_sentiment(shipped_text_root())
    assert len(sentences) == 600
    for s in range(3):
        assert np.bincount(labels[sources == s], minlength=2).tolist() == [100, 100]
    assert all(tokenize(s) for s in sentences)


def test_shipped_multi30k_loads_aligned_pairs():
    train = load_multi30k("train", data_dir=shipped_text_root())
    test = load_multi30k("test", data_dir=shipped_text_root())
    assert (len(train), len(test)) == (2000, 100)
    assert all(de.strip() and en.strip() for de, en in train + test)
    assert train[0][1].startswith("Two young")  # Multi30k's first training caption


@pytest.mark.parametrize("folder", ["sentiment", "multi30k"])
def test_every_sample_carries_its_attribution(folder):
    notice = (SHIPPED / folder / "NOTICE.txt").read_text()
    assert "CC BY 4.0" in notice and "creativecommons.org/licenses/by/4.0" in notice


def test_every_shipped_file_is_package_data():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["lava_thesis.data"]
    files = [p.relative_to(SHIPPED.parent).as_posix() for p in SHIPPED.rglob("*") if p.is_file()]
    assert files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def _fake_data(root, n=5):
    (root / "sentiment").mkdir(parents=True)
    for source in ("imdb", "amazon_cells", "yelp"):
        lines = [f"{source} sentence {i}\t{i % 2}" for i in range(4 * n)]
        (root / "sentiment" / f"{source}_labelled.txt").write_text("\n".join(lines) + "\n")
    (root / "multi30k").mkdir()
    for stem in ("train", "test_2016_flickr"):
        for lang in ("de", "en"):
            text = "".join(f"{stem} {lang} {i}\n" for i in range(10))
            (root / "multi30k" / f"{stem}.{lang}.gz").write_bytes(gzip.compress(text.encode()))


def test_build_keeps_the_first_lines_of_each_label_and_split(tmp_path):
    _fake_data(tmp_path / "data")
    out = tmp_path / "out"
    written = build_shipped_text(tmp_path / "data", out, per_class=3,
                                 pairs={"train": 4, "test": 2})
    assert written["yelp_labelled.txt"] == 6 and written["train.de.gz"] == 4
    sentences, labels, _ = load_sentiment(out, sources=("yelp",))
    assert sentences == [f"yelp sentence {i}" for i in range(6)]
    assert labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert load_multi30k("test", data_dir=out) == [
        (f"test_2016_flickr de {i}", f"test_2016_flickr en {i}") for i in range(2)]
    # deterministic bytes (gzip without a timestamp): a rebuild changes nothing
    before = (out / "multi30k" / "train.en.gz").read_bytes()
    build_shipped_text(tmp_path / "data", out, per_class=3, pairs={"train": 4, "test": 2})
    assert (out / "multi30k" / "train.en.gz").read_bytes() == before


def test_build_names_the_missing_file(tmp_path):
    _fake_data(tmp_path / "data")
    (tmp_path / "data" / "multi30k" / "train.en.gz").unlink()
    with pytest.raises(DataNotFoundError, match="train.en.gz"):
        build_shipped_text(tmp_path / "data", tmp_path / "out", per_class=1)


def test_shipped_samples_are_what_build_writes_from_the_real_data(data_root, tmp_path):
    build_shipped_text(data_root, tmp_path)
    for path in SHIPPED.glob("*/*"):
        if path.parent.name in ("sentiment", "multi30k"):
            assert (tmp_path / path.parent.name / path.name).read_bytes() == path.read_bytes(), path
