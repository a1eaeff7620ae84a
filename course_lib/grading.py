"""Checks the hidden tests call, framework-free.

Every check raises ``AssertionError`` with one plain sentence that tells the student what
was expected, and returns nothing useful to copy: the grader recomputes every number
from the student's code or model, never trusting a number the student computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import budget
# Re-exported: hidden tests count confusion matrices with the helpers students use.
from .data import confusion_matrix, labels_of  # noqa: F401


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` (one sentence for the student) unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


#: MIME type of a note a hidden test leaves for the feedback: the one output of a test cell
#: that feedback shows (test-cell outputs are otherwise dropped).
STAND_IN_MIME = "application/vnd.course.stand-in+json"


def used_stand_in(part: str, reason: str) -> None:
    """Record that this test graded a later part with the grader's own ``part`` (e.g. "the
    course's train_epoch") because the student's ``reason`` (e.g. "train_epoch failed its
    test above"), so one mistake is counted once and the feedback says so."""
    from IPython.display import display

    text = f"Graded with {part} because {reason}."
    display({STAND_IN_MIME: {"part": part, "reason": reason}, "text/plain": text}, raw=True)


def require(name: str, namespace: Mapping, part: str):
    """The student's ``name`` from ``namespace`` (a cell's ``globals()``); when it is missing,
    fail with one sentence naming the earlier ``part`` it comes from, never a NameError."""
    expect(name in namespace, f"This could not be checked because {part} did not run or failed "
                              f"above ({name} is not defined).")
    return namespace[name]


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


def most_confused_pairs(cm: np.ndarray, top: int = 5) -> list[tuple[int, int, int]]:
    """The ``top`` off-diagonal cells as (true digit, predicted digit, count), largest first."""
    cm = np.asarray(cm)
    pairs = [(int(t), int(p), int(cm[t, p])) for t in range(len(cm)) for p in range(len(cm)) if t != p]
    return sorted(pairs, key=lambda pair: -pair[2])[:top]
