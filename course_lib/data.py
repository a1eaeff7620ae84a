"""MNIST for the course: find the file, check it, load it, and shape it for a model.

Where the data comes from, in this order (the first that exists wins):

1. the ``path`` argument of :func:`load_mnist`;
2. the environment variable ``COURSE_DATA`` (a path to an ``.npz`` file);
3. the course cache, ``$XDG_CACHE_HOME/course_lib/mnist.npz`` (``~/.cache/course_lib/``);
4. the Keras cache, ``$KERAS_HOME/datasets/mnist.npz`` (``~/.keras/datasets/``);
5. the Keras download (the same URL Keras uses), saved into the Keras cache.

Every file is checked against a known sha256. Two files are known: the full Keras MNIST
(60,000 train / 10,000 test) and the offline ``mnist-lite.npz`` (10,000 train / the full
10,000 test). :func:`mnist_variant` says which one was loaded, so thresholds can depend
on it. This module imports neither TensorFlow nor PyTorch.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
ENV_VAR = "COURSE_DATA"

#: sha256 of each known file -> its variant name
KNOWN_FILES = {
    "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1": "full",
    "70169cb08fa3cc43ecf032380c9e8f704cce400c947492e28d5c2a145e816d54": "lite",
}

NUM_CLASSES = 10

HOW_TO_FIX = (
    "Set the environment variable COURSE_DATA to the path of mnist.npz "
    "(the offline copy is shared/datasets/mnist-lite.npz), or connect to the internet "
    "once so Keras can download it to ~/.keras/datasets/mnist.npz."
)


class MnistNotFoundError(FileNotFoundError):
    """No MNIST file could be found or downloaded."""


class MnistChecksumError(ValueError):
    """A file was found but is not one of the known MNIST files."""


@dataclass(frozen=True)
class MnistSource:
    """Where the data was found, and which variant it is ('full' or 'lite')."""

    path: Path
    variant: str
    origin: str


def course_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "course_lib" / "mnist.npz"


def keras_cache_path() -> Path:
    base = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(base) / "datasets" / "mnist.npz"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checked(path: Path, origin: str) -> MnistSource:
    if not path.is_file():
        raise MnistNotFoundError(f"MNIST file {path} (from {origin}) does not exist. {HOW_TO_FIX}")
    digest = sha256_of(path)
    if digest not in KNOWN_FILES:
        raise MnistChecksumError(
            f"{path} (from {origin}) is not a known MNIST file: its sha256 is {digest}. "
            f"It may be corrupt or incomplete; delete it and try again. {HOW_TO_FIX}"
        )
    return MnistSource(path=path, variant=KNOWN_FILES[digest], origin=origin)


def _download(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    try:
        urllib.request.urlretrieve(KERAS_URL, partial)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise MnistNotFoundError(
            f"No MNIST file was found and the Keras download failed ({error}). {HOW_TO_FIX}"
        ) from error
    partial.replace(target)


def resolve_mnist(path: str | os.PathLike | None = None, download: bool = True) -> MnistSource:
    """Find the MNIST file in the documented order and check its sha256."""
    if path is not None:
        return _checked(Path(path).expanduser(), "the path argument")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _checked(Path(from_env).expanduser(), f"${ENV_VAR}")
    for candidate, origin in ((course_cache_path(), "the course cache"),
                              (keras_cache_path(), "the Keras cache")):
        if candidate.is_file():
            return _checked(candidate, origin)
    if not download:
        raise MnistNotFoundError(f"No MNIST file was found. {HOW_TO_FIX}")
    _download(keras_cache_path())
    return _checked(keras_cache_path(), "the Keras download")


@lru_cache(maxsize=4)
def _read(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        arrays = tuple(npz[key] for key in ("x_train", "y_train", "x_test", "y_test"))
    for array in arrays:
        array.setflags(write=False)
    return arrays


def load_mnist(path: str | os.PathLike | None = None):
    """Return ``(x_train, y_train), (x_test, y_test)`` exactly like ``keras.datasets.mnist``.

    Images are uint8 (N, 28, 28) in 0..255 and labels uint8 (N,). The arrays are fresh
    copies, so changing them never changes what the next call returns.
    """
    source = resolve_mnist(path)
    x_train, y_train, x_test, y_test = (array.copy() for array in _read(source.path))
    return (x_train, y_train), (x_test, y_test)


def mnist_variant(path: str | os.PathLike | None = None) -> str:
    """'full' for the 60,000-image Keras MNIST, 'lite' for the offline 10,000-image file."""
    return resolve_mnist(path).variant


# --- shaping helpers --------------------------------------------------------------------

def scale_01(images: np.ndarray) -> np.ndarray:
    """uint8 images in 0..255 -> float32 in [0, 1]."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def add_channel_axis(images: np.ndarray, channels_first: bool = False) -> np.ndarray:
    """(N, 28, 28) -> (N, 28, 28, 1) for Keras, or (N, 1, 28, 28) for PyTorch."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"Expected images of shape (N, 28, 28), got {images.shape}.")
    return images[:, np.newaxis] if channels_first else images[..., np.newaxis]


def flatten(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 784)."""
    images = np.asarray(images)
    return images.reshape(len(images), -1)


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Integer labels (N,) -> float32 one-hot rows (N, num_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"Expected integer labels of shape (N,), got {labels.shape}.")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"Labels must be in 0..{num_classes - 1}.")
    return np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]


def labels_of(y: np.ndarray) -> np.ndarray:
    """Integer labels from integer or one-hot labels."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels_of(y_true), labels_of(y_pred)), 1)
    return cm



@dataclass(frozen=True)
class Splits:
    """Train / validation / test arrays from :func:`train_val_test`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def train_val_test(train_samples: int, val_samples: int, test_samples: int,
                   seed: int = 0, path: str | os.PathLike | None = None) -> Splits:
    """Random, disjoint train and validation subsets of the training split, and a random
    test subset of the test split. Raw uint8 images and integer labels."""
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    if train_samples + val_samples > len(x_train):
        raise ValueError(
            f"Asked for {train_samples} + {val_samples} training/validation images, but the "
            f"{mnist_variant(path)} MNIST training split has only {len(x_train)}."
        )
    if test_samples > len(x_test):
        raise ValueError(f"Asked for {test_samples} test images; there are {len(x_test)}.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_train))
    train_idx, val_idx = order[:train_samples], order[train_samples:train_samples + val_samples]
    test_idx = rng.permutation(len(x_test))[:test_samples]
    return Splits(x_train[train_idx], y_train[train_idx], x_train[val_idx],
                  y_train[val_idx], x_test[test_idx], y_test[test_idx])


def load_mnist_data(train_samples: int = 8_000, val_samples: int = 2_000,
                    test_samples: int = 2_000, seed: int = 0):
    """PA4's loader: ``(X_train, y_train, X_val, y_val, X_test, y_test)`` with images as
    float32 (N, 28, 28, 1) in [0, 1] and labels one-hot (N, 10)."""
    splits = train_val_test(train_samples, val_samples, test_samples, seed=seed)
    out = []
    for x, y in ((splits.x_train, splits.y_train), (splits.x_val, splits.y_val),
                 (splits.x_test, splits.y_test)):
        out += [add_channel_axis(scale_01(x)), one_hot(y)]
    return tuple(out)
