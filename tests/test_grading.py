"""course_lib.grading: the framework-free checks hidden tests call."""

from __future__ import annotations

import numpy as np
import pytest

from checks import assert_one_sentence, failure, passes
from course_lib import grading




def test_expect():
    assert grading.expect(True, "never shown") is None
    assert failure(grading.expect, False, "The answer should be 3.") == "The answer should be 3."


# --- threshold -------------------------------------------------------------------------

TABLE = {"full": {"lite": 0.97, "full": 0.985}, "grading": {"lite": 0.90, "full": 0.93}}


@pytest.mark.parametrize("env, variant, expected", [
    (None, "lite", 0.97), (None, "full", 0.985),
    ("autograde", "lite", 0.90), ("autograde", "full", 0.93), ("validate", "lite", 0.90),
])
def test_threshold_per_mode_and_variant(monkeypatch, env, variant, expected):
    if env:
        monkeypatch.setenv("NBGRADER_EXECUTION", env)
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert grading.threshold(TABLE, variant) == expected


# --- check_* ---------------------------------------------------------------------------

def test_check_accuracy():
    grading.check_accuracy(0.95, 0.95)
    message = failure(grading.check_accuracy, 0.8123, 0.9)
    assert message == ("Your model's test accuracy was 81.23% when the grader measured it; "
                       "it should be at least 90.00%.")
    assert "validation accuracy" in failure(grading.check_accuracy, 0.1, 0.9, what="validation accuracy")


def test_nan_never_passes():
    assert "nan" in failure(grading.check_accuracy, float("nan"), 0.5)
    failure(grading.check_close, float("nan"), 0.5, 1.0, "The loss")


def test_check_choice():
    grading.check_choice("relu", ["relu", "tanh"], "The activation")
    grading.check_choice(3, range(5), "k")
    message = failure(grading.check_choice, "sigmoid", ("relu", "tanh"), "The activation")
    assert message == "The activation should be one of ['relu', 'tanh'], but it is 'sigmoid'."


@pytest.mark.parametrize("value", [0.5, 0.515, 0.485, np.float32(0.5), 1, np.int64(1)])
def test_check_close_accepts_numbers_within_tolerance(value):
    assert passes(grading.check_close, value, 0.5 if value < 0.9 else 1.0, 0.02, "The loss")


def test_check_close_rejects_far_values():
    message = failure(grading.check_close, 0.6, 0.5, 0.05, "The loss")
    assert message == "The loss is 0.6, but the grader measured 0.5 (allowed difference 0.05)."


@pytest.mark.parametrize("value", [True, "0.5", None, [0.5]])
def test_check_close_rejects_non_numbers(value):
    message = failure(grading.check_close, value, 0.5, 0.1, "The loss")
    assert message.startswith("The loss should be a number, but it is ")


# --- labels and confusion matrices -----------------------------------------------------

def test_labels_of():
    np.testing.assert_array_equal(grading.labels_of(np.array([3, 1], dtype=np.uint8)), [3, 1])
    assert grading.labels_of(np.array([3, 1], dtype=np.uint8)).dtype == np.int64
    np.testing.assert_array_equal(grading.labels_of(np.eye(10)[[3, 1]]), [3, 1])
    np.testing.assert_array_equal(grading.labels_of(np.array([[0.1, 0.7, 0.2]])), [1])


Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 2, 0, 0, 1])
EXPECTED_CM = np.array([[1, 1, 0],
                        [0, 2, 1],
                        [2, 1, 1]])


@pytest.mark.parametrize("one_hot_true, one_hot_pred", [(False, False), (True, True), (False, True)])
def test_confusion_matrix(one_hot_true, one_hot_pred):
    y_true = np.eye(3)[Y_TRUE] if one_hot_true else Y_TRUE
    y_pred = np.eye(3)[Y_PRED] * 0.9 + 0.03 if one_hot_pred else Y_PRED  # soft scores work too
    cm = grading.confusion_matrix(y_true, y_pred, num_classes=3)
    np.testing.assert_array_equal(cm, EXPECTED_CM)
    assert cm.sum() == len(Y_TRUE)


def test_confusion_matrix_default_ten_classes():
    cm = grading.confusion_matrix(np.array([9, 9, 4]), np.array([9, 4, 4]))
    assert cm.shape == (10, 10)
    assert (cm[9, 9], cm[9, 4], cm[4, 4]) == (1, 1, 1)


def test_most_confused_pairs_largest_first_without_diagonal():
    cm = np.array([[50, 2, 7],
                   [1, 60, 0],
                   [4, 9, 40]])
    assert grading.most_confused_pairs(cm, top=3) == [(2, 1, 9), (0, 2, 7), (2, 0, 4)]
    pairs = grading.most_confused_pairs(cm, top=10)
    assert len(pairs) == 6  # every off-diagonal cell, never the diagonal
    assert all(t != p for t, p, _ in pairs)
    assert [c for _, _, c in pairs] == sorted((c for _, _, c in pairs), reverse=True)
    assert all(isinstance(v, int) for pair in pairs for v in pair)


def test_most_confused_pairs_ties_keep_row_order():
    cm = np.array([[0, 3, 3], [3, 0, 1], [0, 0, 0]])
    assert grading.most_confused_pairs(cm, top=3) == [(0, 1, 3), (0, 2, 3), (1, 0, 3)]


def test_require_names_the_earlier_part():
    assert grading.require("x", {"x": 3}, "step 1") == 3
    message = failure(grading.require, "loaded_acc", {}, "the save-and-reload step")
    assert "the save-and-reload step" in message and "loaded_acc" in message


def test_used_stand_in_leaves_a_note_for_the_feedback(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    grading.used_stand_in("the course's train_epoch", "your train_epoch failed its test above")
    (bundle, raw), = shown
    assert raw and bundle[grading.STAND_IN_MIME]["part"] == "the course's train_epoch"
    assert bundle["text/plain"] == ("Graded with the course's train_epoch because your "
                                    "train_epoch failed its test above.")
