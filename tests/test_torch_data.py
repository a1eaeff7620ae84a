"""course_lib.torch_data: MNIST as tensors and seeded DataLoaders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import data, torch_data


def test_to_tensors_shapes_dtypes_and_range():
    images = np.array([np.zeros((28, 28)), np.full((28, 28), 255)], dtype=np.uint8)
    x, y = torch_data.to_tensors(images, np.array([3, 7], dtype=np.uint8))
    assert x.shape == (2, 1, 28, 28) and x.dtype == torch.float32
    assert float(x[0].max()) == 0.0 and float(x[1].min()) == 1.0
    assert y.dtype == torch.int64 and y.tolist() == [3, 7]


def test_to_tensors_does_not_change_its_input():
    images = np.full((3, 28, 28), 128, dtype=np.uint8)
    x, _ = torch_data.to_tensors(images, np.zeros(3, dtype=np.uint8))
    x += 1
    assert (images == 128).all()


@pytest.mark.parametrize("labels, message", [
    (np.zeros((2, 10)), "integer class labels"),
    (np.zeros(3, dtype=np.uint8), "2 images but 3 labels"),
])
def test_to_tensors_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        torch_data.to_tensors(np.zeros((2, 28, 28), dtype=np.uint8), labels)


def test_load_splits_covers_the_training_split_once():
    (x_train, _), (x_test, y_test) = data.load_mnist()
    splits = torch_data.load_splits(val_fraction=0.1, seed=0)
    n_val = round(len(x_train) * 0.1)
    assert len(splits.x_val) == n_val and len(splits.x_train) == len(x_train) - n_val
    assert splits.x_train.shape[1:] == (1, 28, 28) and splits.y_train.dtype == torch.int64
    assert float(splits.x_train.max()) <= 1.0 and float(splits.x_train.min()) >= 0.0
    train_rows = {bytes(row) for row in (splits.x_train[:500] * 255).round().byte().numpy()}
    val_rows = {bytes(row) for row in (splits.x_val * 255).round().byte().numpy()}
    assert not train_rows & val_rows, "training and validation images should not overlap"
    assert torch.equal(splits.y_test, torch.from_numpy(y_test.astype(np.int64)))


def test_load_splits_is_seeded():
    a, b, c = (torch_data.load_splits(seed=s) for s in (1, 1, 2))
    assert torch.equal(a.y_train, b.y_train) and not torch.equal(a.y_train, c.y_train)


def test_load_splits_rejects_a_bad_fraction():
    with pytest.raises(ValueError, match="between 0 and 1"):
        torch_data.load_splits(val_fraction=1.5)


def test_make_loader_batches_of_32_with_repeatable_shuffling():
    x = torch.arange(100, dtype=torch.float32).reshape(100, 1, 1, 1)
    y = torch.arange(100)
    order = [torch.cat([yb for _, yb in torch_data.make_loader(x, y, shuffle=True, seed=s)])
             for s in (4, 4, 5)]
    assert torch.equal(order[0], order[1]) and not torch.equal(order[0], order[2])
    assert sorted(order[0].tolist()) == list(range(100))
    sizes = [len(xb) for xb, _ in torch_data.make_loader(x, y)]
    assert sizes == [32, 32, 32, 4]
    assert torch.equal(torch.cat([yb for _, yb in torch_data.make_loader(x, y)]), y)


def test_make_loader_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        torch_data.make_loader(torch.zeros(3, 1, 28, 28), torch.zeros(2))


def test_one_thread_while_grading(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
        assert torch_data.configure_threads() == before
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        assert torch_data.configure_threads() == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
