"""Data loading: one module per data set or file format; all read from one data root.

The root is ``--data-dir``, else ``$LAVA_THESIS_DATA``, else ``~/.cache/lava-thesis/data``
(:func:`resolve_data_dir`). Loaders raise :class:`DataNotFoundError` (which files to put where)
or :class:`DataFormatError` (which file is bad, and what was expected). This package imports
only numpy and the standard library at import time.
"""

from lava_thesis.data.aedat4 import read_aedat4
from lava_thesis.data.cifar import load_cifar10, load_cifar100, read_cifar_batch
from lava_thesis.data.download import RemoteFile, ensure_files
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.events import EVENT_DTYPE, check_events, make_events
from lava_thesis.data.fsdd import FsddRecording, load_fsdd
from lava_thesis.data.idx import read_idx, write_idx
from lava_thesis.data.mnist import load_fashion_mnist, load_mnist
from lava_thesis.data.multi30k import load_multi30k
from lava_thesis.data.nmnist import NmnistSample, load_nmnist, read_nmnist_bin, write_nmnist_bin
from lava_thesis.data.root import ENV_VAR, resolve_data_dir
from lava_thesis.data.sentiment import load_sentiment
from lava_thesis.data.splits import kfold, train_test_split
from lava_thesis.data.wav import read_wav, write_wav

__all__ = [
    "ENV_VAR",
    "EVENT_DTYPE",
    "DataFormatError",
    "DataNotFoundError",
    "FsddRecording",
    "NmnistSample",
    "RemoteFile",
    "check_events",
    "ensure_files",
    "kfold",
    "load_cifar10",
    "load_cifar100",
    "load_fashion_mnist",
    "load_fsdd",
    "load_mnist",
    "load_multi30k",
    "load_nmnist",
    "load_sentiment",
    "make_events",
    "read_aedat4",
    "read_cifar_batch",
    "read_idx",
    "read_nmnist_bin",
    "read_wav",
    "resolve_data_dir",
    "train_test_split",
    "write_idx",
    "write_nmnist_bin",
    "write_wav",
]
