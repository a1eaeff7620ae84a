"""Helpers for testing the grading checks: a check either passes, or fails with one plain
sentence for the student."""

from __future__ import annotations

import re

import pytest


def assert_one_sentence(message: str):
    """One plain sentence: one line, ends with a full stop, no second sentence inside."""
    assert "\n" not in message, message
    assert message.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), f"more than one sentence: {message}"


def failure(check, *args, **kwargs) -> str:
    """The check's failure message (it must fail, with one sentence)."""
    with pytest.raises(AssertionError) as error:
        check(*args, **kwargs)
    message = str(error.value)
    assert_one_sentence(message)
    return message


def passes(check, *args, **kwargs) -> bool:
    """True when the check accepts (raises no AssertionError)."""
    try:
        check(*args, **kwargs)
    except AssertionError:
        return False
    return True


def nbgrader_meta(grade_id, grade=False, solution=False, points=None, locked=None):
    """Cell metadata as nbgrader's Create Assignment toolbar writes it; test cells (graded,
    not a solution) are locked unless ``locked`` says otherwise."""
    nbgrader = {"grade": grade, "grade_id": grade_id,
                "locked": (grade and not solution) if locked is None else locked,
                "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}
