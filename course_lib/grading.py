"""Checks the hidden tests call, framework-free.

Every check raises ``AssertionError`` with one plain sentence that tells the student what
was expected, and returns nothing useful to copy: the grader recomputes every number
from the student's code or model, never trusting a number the student computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import budget


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` (one sentence for the student) unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def threshold(table: Mapping[str, Mapping[str, float]], variant: str) -> float:
    """Pick a threshold from ``{mode: {variant: value}}``; mode is 'grading' under nbgrader,
    'full' for a normal run, and variant is 'lite' or 'full' (see ``data.mnist_variant``)."""
    return table[budget.mode()][variant]


def check_accuracy(measured: float, minimum: float, what: str = "test accuracy") -> None:
    expect(measured >= minimum,
           f"Your model's {what} was {measured:.2%} when the grader measured it; "
           f"it should be at least {minimum:.2%}.")


def check_choice(value, options: Iterable, what: str) -> None:
    options = list(options)
    expect(value in options, f"{what} should be one of {options}, but it is {value!r}.")


def check_close(value, expected: float, tolerance: float, what: str) -> None:
    expect(isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool),
           f"{what} should be a number, but it is {value!r}.")
    expect(abs(float(value) - expected) <= tolerance,
           f"{what} is {float(value):.4g}, but the grader measured {expected:.4g} "
           f"(allowed difference {tolerance:g}).")


def labels_of(y: np.ndarray) -> np.ndarray:
    """Integer labels from integer or one-hot labels."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels_of(y_true), labels_of(y_pred)), 1)
    return cm


def most_confused_pairs(cm: np.ndarray, top: int = 5) -> list[tuple[int, int, int]]:
    """The ``top`` off-diagonal cells as (true digit, predicted digit, count), largest first."""
    cm = np.asarray(cm)
    pairs = [(int(t), int(p), int(cm[t, p])) for t in range(len(cm)) for p in range(len(cm)) if t != p]
    return sorted(pairs, key=lambda pair: -pair[2])[:top]
