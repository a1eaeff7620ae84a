"""Checks of the functions students write for PyTorch training (imports PyTorch; never
TensorFlow or Keras): ``train_epoch``, ``evaluate`` and the L1/L2 penalties, each run on
tiny models with known answers, so a check needs no MNIST and no trained network.

Model checks (architecture, dropout, accuracy, saved weights) live in ``torch_grading``.
Every check raises ``AssertionError`` with one plain sentence for the student.

One mistake counts once: :func:`check_or_stand_in` checks a student's function and, when it
fails, puts the course's reference in its place in the notebook, so the later parts (the
training cells, the exploration, the saved model) run and are graded on their own;
:func:`note_stand_ins` tells the feedback of a later test that it was graded that way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from . import grading
from .grading import expect
from .torch_grading import as_number, quiet


def _run(fn: Callable, name: str, *args, **kwargs):
    """``fn(*args, **kwargs)``; an exception from the student's function becomes one sentence."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 (any failure of the student's code)
        detail = f": {error}".rstrip(".") if str(error) else ""
        raise AssertionError(f"{name} failed on the grader's small test model with "
                             f"{type(error).__name__}{detail}.") from None


def reference_penalties(model: nn.Module, lambda1: float, lambda2: float):
    """The course's penalties: ``(lambda1 * Σ|w|, lambda2 * Σ w²)`` over all parameters."""
    l1 = lambda1 * sum(p.abs().sum() for p in model.parameters())
    l2 = lambda2 * sum((p ** 2).sum() for p in model.parameters())
    return l1, l2


@quiet
def check_penalty_function(fn: Callable) -> None:
    """``fn(model, lambda1, lambda2)`` returns ``(lambda1 * Σ|w|, lambda2 * Σ w²)`` over all
    the model's parameters (weights and biases) as tensors that carry gradients."""
    tiny = nn.Linear(2, 1)
    with torch.no_grad():
        tiny.weight.copy_(torch.tensor([[1.0, -2.0]]))
        tiny.bias.fill_(0.5)
    result = _run(fn, "The penalty function", tiny, 0.1, 0.01)
    expect(isinstance(result, tuple) and len(result) == 2,
           "The penalty function should return a pair (l1_penalty, l2_penalty).")
    l1, l2 = result
    expect(isinstance(l1, torch.Tensor) and isinstance(l2, torch.Tensor) and l1.requires_grad
           and l2.requires_grad,
           "Both penalties should be tensors computed from the parameters, so loss.backward() "
           "reaches the weights (do not call .item() on them).")
    l1, l2 = as_number(l1, "The L1 penalty"), as_number(l2, "The L2 penalty")
    expect(abs(l1 - 0.35) < 1e-6,
           f"For weights [1, -2], bias 0.5 and lambda1 = 0.1 the L1 penalty should be "
           f"0.1 * (1 + 2 + 0.5) = 0.35, but yours is {l1:.6g}.")
    expect(abs(l2 - 0.0525) < 1e-6,
           f"For weights [1, -2], bias 0.5 and lambda2 = 0.01 the L2 penalty should be "
           f"0.01 * (1 + 4 + 0.25) = 0.0525, but yours is {l2:.6g}.")
    torch_seed = torch.Generator().manual_seed(3)
    bigger = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))
    with torch.no_grad():
        for parameter in bigger.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=torch_seed))
    l1, l2 = (as_number(value, "Each penalty") for value in _run(fn, "The penalty function", bigger, 1e-3, 1e-2))
    with torch.no_grad():
        want_l1 = 1e-3 * sum(float(p.abs().sum()) for p in bigger.parameters())
        want_l2 = 1e-2 * sum(float((p ** 2).sum()) for p in bigger.parameters())
    expect(abs(l1 - want_l1) <= 1e-5 * want_l1 and abs(l2 - want_l2) <= 1e-5 * want_l2,
           "The penalties should sum over every parameter tensor of the model (all layers, "
           "weights and biases).")


class _LookupModel(nn.Module):
    """Predicts class ``predictions[i]`` for an image whose first pixel is ``i``; records
    how it was called (batch sizes, gradient mode, train/eval mode)."""

    def __init__(self, predictions: torch.Tensor, classes: int = 10):
        super().__init__()
        self.register_buffer("predictions", predictions)
        self.scale = nn.Parameter(torch.ones(()))
        self.classes = classes
        self.calls: list[tuple[int, bool, bool]] = []

    def forward(self, x):
        self.calls.append((len(x), torch.is_grad_enabled(), self.training))
        index = x[:, 0, 0, 0].round().long()
        return nn.functional.one_hot(self.predictions[index], self.classes).float() * self.scale


@quiet
def check_evaluate_function(fn: Callable, batch_size: int = 20) -> None:
    """``fn(model, loader, device)`` returns the accuracy as a fraction, feeding the model
    whole batches, in eval mode, under ``torch.no_grad()``."""
    rng = np.random.default_rng(0)
    labels = torch.from_numpy(rng.integers(0, 10, size=100))
    predictions = labels.clone()
    wrong = torch.from_numpy(rng.permutation(100)[:37])
    predictions[wrong] = (predictions[wrong] + 1) % 10
    images = torch.zeros(100, 1, 28, 28)
    images[:, 0, 0, 0] = torch.arange(100, dtype=torch.float32)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels),
                                         batch_size=batch_size)
    model = _LookupModel(predictions).train()
    result = _run(fn, "evaluate", model, loader, torch.device("cpu"))
    expect(model.calls != [], "evaluate should run the model on the loader's images.")
    expect(all(size > 1 for size, _, _ in model.calls) and len(model.calls) == len(loader),
           "evaluate should feed the model one whole batch from the loader at a time, "
           "not one image at a time.")
    expect(not any(grad for _, grad, _ in model.calls),
           "evaluate should run the model under torch.no_grad().")
    expect(not any(training for _, _, training in model.calls),
           "evaluate should put the model in eval mode (model.eval()) before predicting.")
    value = as_number(result, "The accuracy evaluate returns")
    expect(abs(value - 0.63) < 1e-6,
           f"evaluate should return the fraction of correctly classified images (0.63 for the "
           f"grader's test model), but it returned {value:.6g}.")


class _ModeProbe(nn.Module):
    """A tiny classifier of (N, 1, 4, 4) images that records whether it ran in train mode."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(16, 3)
        self.modes: list[bool] = []

    def forward(self, x):
        self.modes.append(self.training)
        return self.linear(x.flatten(1))


def reference_evaluate(model: nn.Module, loader, device) -> float:
    """The course's evaluate: accuracy over the loader, whole batches, eval mode, no gradients."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += int((model(images.to(device)).argmax(dim=1) == labels.to(device)).sum())
            total += len(labels)
    return correct / total


def reference_train_epoch(model: nn.Module, loader, optimizer, criterion, device,
                          penalty: Callable | None = None) -> float:
    """The course's train_epoch: one epoch of minibatch training in train mode (zero_grad,
    forward, loss [+ penalty(model)], backward, step per batch); the mean batch loss."""
    model.train()
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


@quiet
def check_train_epoch_function(fn: Callable) -> None:
    """``fn(model, loader, optimizer, criterion, device, penalty=None)`` runs one epoch of
    minibatch training with the given optimizer (zero_grad, forward, loss [+ penalty],
    backward, step per batch), in train mode, and returns the mean training loss."""
    generator = torch.Generator().manual_seed(5)
    images = torch.rand(40, 1, 4, 4, generator=generator)
    labels = torch.randint(0, 3, (40,), generator=generator)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=8)

    def penalty(model):
        return 0.05 * sum((p ** 2).sum() for p in model.parameters())

    for use_penalty in (False, True):
        torch.manual_seed(7)
        theirs = _ModeProbe().eval()
        ours = copy.deepcopy(theirs)
        criterion = nn.CrossEntropyLoss()
        returned = _run(fn, "train_epoch", theirs, loader, torch.optim.SGD(theirs.parameters(), lr=0.5),
                        criterion, torch.device("cpu"), penalty=penalty if use_penalty else None)
        expected = reference_train_epoch(ours, loader, torch.optim.SGD(ours.parameters(), lr=0.5),
                                         criterion, torch.device("cpu"), penalty if use_penalty else None)
        expect(theirs.modes != [] and all(theirs.modes),
               "train_epoch should call model.train() and then run the model on every batch.")
        same = all(torch.allclose(a, b, atol=1e-5) for a, b in zip(theirs.parameters(), ours.parameters()))
        if use_penalty:
            expect(same, "train_epoch should add penalty(model) to the loss of each batch "
                         "when a penalty function is given.")
            continue
        expect(same, "train_epoch should do one optimizer step per batch of the loader: "
                     "optimizer.zero_grad(), forward pass, loss, loss.backward(), optimizer.step().")
        value = as_number(returned, "The mean training loss train_epoch returns")
        expect(abs(value - expected) <= 1e-4 * max(1.0, abs(expected)),
               f"train_epoch should return the mean training loss of the epoch; the grader "
               f"measured {expected:.4f}, yours returned {value:.4f}.")


#: What each student function is checked with, and the course's version that stands in for it.
STAND_INS = {
    "train_epoch": (check_train_epoch_function, reference_train_epoch),
    "evaluate": (check_evaluate_function, reference_evaluate),
    "penalties": (check_penalty_function, reference_penalties),
}


def check_or_stand_in(name: str, namespace: dict, task: str) -> None:
    """Check the student's function ``name`` (one of :data:`STAND_INS`) from ``namespace``
    (the test cell's ``globals()``). When it is missing or fails, the course's version takes
    its place in the notebook for the cells after this test, and the check's message fails
    this test alone."""
    check, reference = STAND_INS[name]
    try:
        expect(callable(namespace.get(name)), f"{name} is not defined: write it in {task}.")
        check(namespace[name])
    except AssertionError:
        namespace[name] = reference
        raise


def note_stand_ins(namespace: dict, *names: str) -> None:
    """Tell the feedback which of the functions ``names`` a later test ran as the course's
    stand-in (because the student's failed its own test above)."""
    for name in names:
        if namespace.get(name) is STAND_INS[name][1]:
            grading.used_stand_in(f"the course's {name}", f"your {name} failed its own test above")
