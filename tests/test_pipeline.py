"""course_lib.instructor.pipeline on a tiny, framework-free course: generate, autograde (correct,
broken and timed-out submissions), feedback, and the demo run going on past a bad one."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from course_lib.instructor import cli
from course_lib.instructor.pipeline import Pipeline, PipelineError
from tiny_course import ASSIGNMENT, FULL_MARKS, make_course, reference, scores

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Pipeline(make_course(tmp_path_factory.mktemp("course")))
    course.generate(ASSIGNMENT)
    course.submit(ASSIGNMENT, "alice", reference())
    course.autograde(ASSIGNMENT, "alice")
    return course


def test_assignments_are_found(course):
    assert course.assignments() == [ASSIGNMENT]


def test_generate_makes_a_release_without_solutions_or_hidden_tests(course):
    release = course.notebook("release", ASSIGNMENT)
    text = release.read_text()
    assert "BEGIN SOLUTION" not in text and "return x * x" not in text
    assert "HIDDEN TESTS" not in text and "square(-5)" not in text
    assert "YOUR CODE HERE" in text
    assert "assert square(2) == 4" in text
    assert course.validate(course.notebook("source", ASSIGNMENT)) == {}


def test_correct_submission_gets_full_marks(course):
    assert scores(course, "alice") == FULL_MARKS


def test_feedback_hides_hidden_tests(course):
    html = course.feedback(ASSIGNMENT, "alice").read_text()
    assert "square(-5)" not in html
    assert "Test passed:" in html, "each test cell shows its verdict instead of its code"


def write_broken(course: Pipeline, student: str) -> Path:
    path = course.notebook("submitted", ASSIGNMENT, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"cells": [ this is not json')
    (path.parent / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return path


def test_broken_submission_is_a_clear_error_and_touches_nothing_else(course):
    before = scores(course, "alice")
    path = write_broken(course, "bob")
    with pytest.raises(PipelineError) as error:
        course.autograde(ASSIGNMENT, "bob")
    message = str(error.value)
    assert message.startswith(f"The submission of bob ({path}) is not a readable notebook (")
    assert message.endswith("); ask for it again.")
    assert "Traceback" not in message
    assert scores(course, "alice") == before == FULL_MARKS
    assert not (course.root / "autograded" / "bob").exists()
    assert path.read_text() == '{"cells": [ this is not json', "the submission must be kept as it was"


def test_cell_that_times_out_scores_zero_and_grading_goes_on(course):
    slow = reference()
    slow.cells[2].source = "import time\n\ndef cube(x):\n    while True:\n        time.sleep(0.05)"
    course.submit(ASSIGNMENT, "carol", slow)
    saved = course.config.Execute.timeout
    course.config.Execute.timeout = 6  # generous: the interrupted kernel must recover on busy cores
    try:
        course.autograde(ASSIGNMENT, "carol")
    finally:
        course.config.Execute.timeout = saved
    assert scores(course, "carol") == {**FULL_MARKS, "test_cube": (0.0, 1.0, False)}
    graded = nbformat.read(course.notebook("autograded", ASSIGNMENT, "carol"), as_version=4)
    cube_test = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_cube")
    assert "CellTimeoutError" in [o.get("ename") for o in cube_test.outputs]
    feedback = course.feedback(ASSIGNMENT, "carol").read_text()
    assert ("CellTimeoutError: This cell ran longer than the grader's time limit (6 s per cell) "
            "and was stopped, so it scores 0.") in feedback


def test_run_demo_goes_on_past_a_broken_submission(tmp_path, monkeypatch, capsys):
    root = make_course(tmp_path)
    submit = Pipeline.submit

    def submit_breaking_wrong(self, assignment, student, nb):
        path = submit(self, assignment, student, nb)
        if student == "wrong":
            path.write_text("not a notebook")
        return path

    monkeypatch.setattr(Pipeline, "submit", submit_breaking_wrong)
    assert cli.main(["demo", ASSIGNMENT, "--root", str(root)]) == 1
    out, err = capsys.readouterr()
    assert "FAILED: wrong" in out
    assert err.startswith("course demo: 1 submission(s) could not be graded:\nlab0 / wrong: The submission of wrong")
    assert "not a readable notebook" in err

    course = Pipeline(root)
    assert scores(course, "reference") == FULL_MARKS
    # nbgrader scores an answer cell left as released 0 without waiting for a manual grade
    assert {k: v[0] for k, v in scores(course, "blank").items()} == {"test_cube": 0.0, "test_square": 0.0,
                                                                     "q1": 0.0}
    with open(root / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(rows["reference"]["raw_score"]) == 3.0 and float(rows["blank"]["raw_score"]) == 0.0
    folder = root / "peer_review" / ASSIGNMENT
    key = (folder / "key.csv").read_text().splitlines()
    assert key[0] == "code,student" and sorted(line.split(",")[1] for line in key[1:]) == ["blank", "reference"]
    assert len(list(folder.glob("*.pdf"))) == 2
    assert (root / "feedback" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    assert not (root / "feedback" / "wrong").exists()


def test_peer_review_skips_and_reports_an_unreadable_submission(course):
    write_broken(course, "dave")
    with pytest.raises(PipelineError) as error:
        course.peer_review_pdfs(ASSIGNMENT, ["dave", "alice"])
    assert str(error.value).startswith("No peer-review PDF for these submissions:\n"
                                       "The submission of dave (")
    folder = course.root / "peer_review" / ASSIGNMENT
    key = (folder / "key.csv").read_text().splitlines()
    assert [line.split(",")[1] for line in key] == ["student", "alice"]
    pdf = folder / f"{key[1].split(',')[0]}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
