"""Where every downloadable data set comes from, and how its files are verified.

Plain constants only: URLs pinned to a release, tag or commit where the host allows, and
checksums. Notes on each source:

* MNIST, Fashion-MNIST, CIFAR-10/100: MD5 of the official files, as published with them
  (torchvision lists the same ones); md5 is all those sources publish.
* Multi30k task 1: SHA-256 of each raw ``.gz`` file of github.com/multi30k/dataset
  ``data/task1/raw``, at the commit :data:`MULTI30K_COMMIT` (the last one that changed those
  files); the ``master`` branch is the mirror (the checksums make either one safe).
* UCI Sentiment Labelled Sentences: the UCI zip's bytes are not pinned (UCI may repackage it);
  the three extracted ``*_labelled.txt`` files are each checked against a SHA-256.
* Free Spoken Digit Dataset: GitHub's archive of tag ``v1.0.10`` (``master`` as the mirror).
  GitHub regenerates archives, so their bytes are not stable; instead the 3,000 extracted
  recordings are checked: exactly 3,000 ``recordings/*.wav`` files, and the SHA-256 of their
  manifest (sorted lines ``"<name> <sha256>"``, see
  :func:`~lava_thesis.data.archive.manifest_sha256`) must equal :data:`FSDD_MANIFEST_SHA256`.
* N-MNIST: the ``Train.zip``/``Test.zip`` of the data set's Mendeley Data record, checked with
  the MD5 the tonic and SpikingJelly loaders publish for them (no SHA-256 is published), and
  the extracted file counts (60,000 and 10,000 recordings).

The SHA-256 values were computed from copies that are byte-identical to the upstream files.
"""

from __future__ import annotations

from types import MappingProxyType

from lava_thesis.data.archive import ArchiveSource
from lava_thesis.data.download import RemoteFile

# --- MNIST / Fashion-MNIST: base URLs (first is primary) and md5 of the official *.gz files ---
MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
MNIST_MD5 = MappingProxyType({
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
})
# md5 of the uncompressed official MNIST files (the same for any re-compression)
MNIST_RAW_MD5 = MappingProxyType({
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
})
FASHION_MNIST_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
FASHION_MNIST_MD5 = MappingProxyType({
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
})

# --- CIFAR: the official python-version tarballs ---
CIFAR10 = RemoteFile(
    "cifar-10-python.tar.gz",
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    md5="c58f30108f718f92721af3b95e74349a",
)
CIFAR100 = RemoteFile(
    "cifar-100-python.tar.gz",
    "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    md5="eb9058c3a382ffc7106e4002c42a8d85",
)

# --- Multi30k task 1, raw files ---
MULTI30K_PAGE = "https://github.com/multi30k/dataset (data/task1/raw)"
MULTI30K_COMMIT = "c60773c2a3db82db0e05655b3d01cf391e810800"
MULTI30K_URL = f"https://raw.githubusercontent.com/multi30k/dataset/{MULTI30K_COMMIT}/data/task1/raw/"
MULTI30K_MIRROR = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/"
MULTI30K_SHA256 = MappingProxyType({
    "test_2016_flickr.cs.gz": "200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1",
    "test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
    "test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
    "test_2016_flickr.fr.gz": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
    "test_2017_flickr.de.gz": "a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee",
    "test_2017_flickr.en.gz": "76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074",
    "test_2017_flickr.fr.gz": "3ba671ceb2299f3304ffafefea7a833d08632fbaf0ba18546f8a2ec2391af496",
    "test_2017_mscoco.de.gz": "799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338",
    "test_2017_mscoco.en.gz": "aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58",
    "test_2017_mscoco.fr.gz": "754f3072ba9f124569ba5258b32730fc1d214bbf8e0c6dfb2b74401676220db0",
    "test_2018_flickr.cs.gz": "7d0a9db904f94c554a8c58049a9f3a5357c27f46cc3d710d70cb0b4a2585b8c2",
    "test_2018_flickr.de.gz": "ddd0130c7d97482dc5197a02141dae8dd79f20f03586c480d675c09a32daf608",
    "test_2018_flickr.en.gz": "ef4f4844037d4c5dea75c9a8ed5fd78905967a26f67c255e230cc9780032654d",
    "test_2018_flickr.fr.gz": "fb2b83fcceb937a4f7e3e93c1c51c22aba92f1e342391e6b5ba392b16a920501",
    "train.cs.gz": "a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077",
    "train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
    "train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
    "train.fr.gz": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
    "val.cs.gz": "b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc",
    "val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
    "val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
    "val.fr.gz": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
})


def multi30k_file(name: str) -> RemoteFile | None:
    """The pinned download of Multi30k task 1 file ``name`` (e.g. ``"val.de.gz"``), or ``None``
    for a file the data set does not have."""
    sha = MULTI30K_SHA256.get(name)
    if sha is None:
        return None
    return RemoteFile(name, MULTI30K_URL + name, sha256=sha, mirrors=(MULTI30K_MIRROR + name,))


# --- UCI Sentiment Labelled Sentences ---
SENTIMENT = ArchiveSource(
    path="sentiment+labelled+sentences.zip",
    url="https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip",
    folder=".",
    contents="amazon_cells_labelled.txt, imdb_labelled.txt, yelp_labelled.txt",
    member_glob="*_labelled.txt",
    members=(
        ("amazon_cells_labelled.txt",
         "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3"),
        ("imdb_labelled.txt", "29cb10b2bfbc60ea33dcbd5abaa8bcf977b142cec7926c627dd76232aaafbfed"),
        ("yelp_labelled.txt", "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"),
    ),
    count=3,
    page="https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences",
    max_file_bytes=4 << 20,
    max_total_bytes=16 << 20,
)

# --- Free Spoken Digit Dataset ---
FSDD_TAG = "v1.0.10"
FSDD_MANIFEST_SHA256 = "dbd573d7cafe79c4b49f65718115e1304e24e067fa39eff18a660dc6cb9c360f"
FSDD = ArchiveSource(
    path=f"free-spoken-digit-dataset-{FSDD_TAG}.zip",
    url=("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/"
         f"{FSDD_TAG}.zip"),
    folder="recordings",
    contents="{digit}_{speaker}_{index}.wav files",
    member_glob="*/recordings/*.wav",
    manifest=FSDD_MANIFEST_SHA256,
    count=3000,
    page="https://github.com/Jakobovski/free-spoken-digit-dataset",
    mirrors=("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/"
             "master.zip",),
    max_file_bytes=1 << 20,
    max_total_bytes=256 << 20,
)

# --- N-MNIST (Orchard et al. 2015), Mendeley Data record 468j46mzdv ---
NMNIST_PAGE = "https://www.garrickorchard.com/datasets/n-mnist"
_NMNIST_FILES = "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"
NMNIST_TRAIN = ArchiveSource(
    path="Train.zip",
    url=_NMNIST_FILES + "39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded",
    folder="Train",
    contents="0/ ... 9/ folders of *.bin files",
    member_glob="*[0-9]/*.bin",
    keep=2,
    md5="20959b8e626244a1b502305a9e6e2031",
    count=60000,
    page=NMNIST_PAGE,
    max_file_bytes=16 << 20,
    max_total_bytes=8 << 30,
)
NMNIST_TEST = ArchiveSource(
    path="Test.zip",
    url=_NMNIST_FILES + "05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded",
    folder="Test",
    contents="0/ ... 9/ folders of *.bin files",
    member_glob="*[0-9]/*.bin",
    keep=2,
    md5="69ca8762b2fe404d9b9bad1103e97832",
    count=10000,
    page=NMNIST_PAGE,
    max_file_bytes=16 << 20,
    max_total_bytes=2 << 30,
)
