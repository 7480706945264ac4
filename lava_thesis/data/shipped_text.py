"""Small real text samples shipped inside the package, so the text tutorial runs offline.

``shipped/sentiment/{imdb,amazon_cells,yelp}_labelled.txt``: 600 of the 3,000 UCI Sentiment
Labelled Sentences (Kotzias, Denil, de Freitas & Smyth, "From Group to Individual Labels using
Deep Features", KDD 2015; UCI Machine Learning Repository, CC BY 4.0): per source the first
100 negative and the first 100 positive lines, in file order, byte for byte.

``shipped/multi30k/{train,test_2016_flickr}.{de,en}.gz``: the first 2,000 training and the
first 100 ``test_2016_flickr`` German-English pairs of Multi30k task 1 (Elliott, Frank,
Sima'an & Specia, "Multi30K: Multilingual English-German Image Descriptions", 2016; CC BY 4.0),
line for line.

Each folder holds a ``NOTICE.txt`` with the attribution. :func:`shipped_text_root` is a data root
in the layout :func:`lava_thesis.data.sentiment.load_sentiment` and
:func:`lava_thesis.data.multi30k.load_multi30k` read, so both load the samples unchanged::

    load_sentiment(shipped_text_root())            # 600 sentences, 300 positive
    load_multi30k("train", data_dir=shipped_text_root())   # 2,000 pairs
"""

from __future__ import annotations

import gzip
from pathlib import Path

from lava_thesis.atomic import atomic_path
from lava_thesis.data.errors import DataNotFoundError
from lava_thesis.data.multi30k import SPLITS, read_lines
from lava_thesis.data.multi30k import URL as MULTI30K_URL
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sentiment import SOURCES, read_labelled

SHIPPED_ROOT = Path(__file__).with_name("shipped")
PER_CLASS = 100  #: sentences per (source, label) in the sentiment sample
MULTI30K_PAIRS = {"train": 2000, "test": 100}
LANGS = ("de", "en")

SENTIMENT_NOTICE = """\
A sample of the Sentiment Labelled Sentences data set (UCI Machine Learning Repository,
https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences), licensed CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/).
Kotzias, Denil, de Freitas & Smyth, "From Group to Individual Labels using Deep Features",
KDD 2015. Per source the first {n} negative and the first {n} positive lines, in file order,
unchanged; written by lava_thesis.data.shipped_text.build_shipped_text.
"""

MULTI30K_NOTICE = """\
A sample of Multi30k task 1 (https://github.com/multi30k/dataset, data/task1/raw), licensed
CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
Elliott, Frank, Sima'an & Specia, "Multi30K: Multilingual English-German Image Descriptions",
Proceedings of the 5th Workshop on Vision and Language, 2016. The first {train} training and
the first {test} test_2016_flickr German-English pairs, unchanged; written by
lava_thesis.data.shipped_text.build_shipped_text.
"""


def shipped_text_root() -> Path:
    """The data root of the shipped text samples (pass it as ``data_dir``)."""
    return SHIPPED_ROOT


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def build_shipped_text(data_dir: str | Path | None = None, root: str | Path = SHIPPED_ROOT,
                       per_class: int = PER_CLASS,
                       pairs: dict[str, int] | None = None) -> dict[str, int]:
    """Rewrite the shipped samples from the full data sets in ``data_dir``.

    Parameters
    ----------
    data_dir : str or Path, optional
        Data root holding ``sentiment/`` and ``multi30k/`` (default: :func:`resolve_data_dir`).
    root : str or Path
        Where to write (``<root>/sentiment``, ``<root>/multi30k``).
    per_class : int
        Lines per (source, label) kept from each sentiment file.
    pairs : dict, optional
        Pairs kept per Multi30k split (``"train"``, ``"test"``); default :data:`MULTI30K_PAIRS`.

    Returns
    -------
    dict
        Lines written per file name.
    """
    src, root = resolve_data_dir(data_dir), Path(root)
    pairs = dict(MULTI30K_PAIRS if pairs is None else pairs)
    written: dict[str, int] = {}
    for source in SOURCES:
        path = src / "sentiment" / f"{source}_labelled.txt"
        read_labelled(path)  # validates the whole file first
        kept, counts = [], {"0": 0, "1": 0}
        for line in path.read_bytes().decode("utf-8").split("\n"):
            label = line.rpartition("\t")[2].strip()
            if line.strip() and counts[label] < per_class:
                counts[label] += 1
                kept.append(line)
        _write(root / "sentiment" / path.name, ("\n".join(kept) + "\n").encode("utf-8"))
        written[path.name] = len(kept)
    _write(root / "sentiment" / "NOTICE.txt", SENTIMENT_NOTICE.format(n=per_class).encode())
    for split, n in pairs.items():
        stem = SPLITS[split]
        for lang in LANGS:
            found = [p for p in (src / "multi30k" / f"{stem}.{lang}.gz",
                                 src / "multi30k" / f"{stem}.{lang}") if p.is_file()]
            if not found:
                raise DataNotFoundError(src / "multi30k", [f"{stem}.{lang}.gz"], MULTI30K_URL)
            lines = read_lines(found[0])[:n]
            data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
            _write(root / "multi30k" / f"{stem}.{lang}.gz", data)
            written[f"{stem}.{lang}.gz"] = len(lines)
    notice = MULTI30K_NOTICE.format(train=pairs.get("train", 0), test=pairs.get("test", 0))
    _write(root / "multi30k" / "NOTICE.txt", notice.encode())
    return written
