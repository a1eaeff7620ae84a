"""MNIST for PyTorch notebooks: tensors and seeded DataLoaders (imports PyTorch; Keras
notebooks never import this module, and it never imports TensorFlow or Keras).

Images become float32 tensors of shape (N, 1, 28, 28) with values in [0, 1] (channels
first, as ``nn.Conv2d`` expects) and labels become int64 class indices (N,), which is what
``nn.CrossEntropyLoss`` expects: no one-hot encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from . import budget, data

BATCH_SIZE = 32


def configure_threads() -> int:
    """Use one CPU thread while nbgrader grades, PyTorch's default otherwise; returns the
    number of threads in use.

    Graders run notebooks on shared cores. PyTorch's worker threads then wait for each
    other, and an epoch can take twenty times longer than on one thread.
    """
    if budget.grading_mode():
        torch.set_num_threads(1)
    return torch.get_num_threads()


def to_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, 28, 28) in 0..255 and integer labels (N,) -> a float32 tensor
    (N, 1, 28, 28) in [0, 1] and an int64 tensor (N,) of class indices."""
    images, labels = np.asarray(images), np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"Expected integer class labels of shape (N,), got {labels.shape}.")
    if len(images) != len(labels):
        raise ValueError(f"Got {len(images)} images but {len(labels)} labels.")
    x = torch.from_numpy(data.add_channel_axis(data.scale_01(images), channels_first=True).copy())
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


@dataclass(frozen=True)
class TorchSplits:
    """Train / validation / test tensors from :func:`load_splits`."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_splits(val_fraction: float = 0.1, seed: int = 0) -> TorchSplits:
    """The whole MNIST training split, shuffled with ``seed`` and cut into training and
    validation tensors (``val_fraction`` of it for validation), and the whole test split
    in its original order."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction should be between 0 and 1, got {val_fraction}.")
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    n_val = int(round(len(x_train) * val_fraction))
    splits = data.train_val_test(len(x_train) - n_val, n_val, 0, seed=seed)
    return TorchSplits(*to_tensors(splits.x_train, splits.y_train),
                       *to_tensors(splits.x_val, splits.y_val),
                       *to_tensors(x_test, y_test))


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU random generator for a DataLoader, so its shuffling repeats run after run."""
    return torch.Generator().manual_seed(int(seed))


def make_loader(x: torch.Tensor, y: torch.Tensor, batch_size: int = BATCH_SIZE,
                shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader over ``(x, y)``; with ``shuffle`` the order comes from a generator
    seeded with ``seed`` (the same seed gives the same batches)."""
    if len(x) != len(y):
        raise ValueError(f"Got {len(x)} images but {len(y)} labels.")
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle,
                      generator=seeded_generator(seed) if shuffle else None)
