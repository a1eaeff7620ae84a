"""course_lib.budget: capped training while nbgrader runs the notebook, unchanged otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import budget


@pytest.fixture
def student_run(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


@pytest.fixture(params=["autograde", "validate"])
def grading_run(request, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", request.param)


def test_student_run_is_full(student_run):
    assert budget.grading_mode() is False
    assert budget.mode() == "full"


def test_empty_variable_is_not_grading(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert budget.mode() == "full"


def test_grading_run(grading_run):
    assert budget.grading_mode() is True
    assert budget.mode() == "grading"


def test_epochs_and_samples_unchanged_for_students(student_run):
    assert budget.epochs(10, grading=2) == 10
    assert budget.samples(50_000, grading=3_000) == 50_000


def test_epochs_and_samples_capped_while_grading(grading_run):
    assert budget.epochs(10, grading=2) == 2
    assert budget.samples(50_000, grading=3_000) == 3_000
    # the cap never raises a smaller request
    assert budget.epochs(1, grading=2) == 1
    assert budget.samples(500, grading=3_000) == 500


def test_take_for_students_returns_everything(student_run):
    x, y = np.arange(10), np.arange(10) * 2
    got_x, got_y = budget.take(x, y, grading=3)
    assert len(got_x) == 10 and len(got_y) == 10
    assert budget.take(x, grading=3) is x


def test_take_while_grading_cuts_each_array(grading_run):
    x, y = np.arange(10), np.arange(10) * 2
    got_x, got_y = budget.take(x, y, grading=3)
    np.testing.assert_array_equal(got_x, [0, 1, 2])
    np.testing.assert_array_equal(got_y, [0, 2, 4])
    single = budget.take(x, grading=4)
    assert isinstance(single, np.ndarray)
    np.testing.assert_array_equal(single, [0, 1, 2, 3])


@pytest.mark.parametrize("env", [None, "autograde"])
def test_take_rejects_arrays_of_different_lengths(monkeypatch, env):
    if env:
        monkeypatch.setenv("NBGRADER_EXECUTION", env)
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(ValueError, match="same length"):
        budget.take(np.arange(3), np.arange(4), grading=2)
