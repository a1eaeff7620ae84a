"""The instructor workflow, for every assignment in source/ (see lifecycle.py).

Each assignment's pipeline runs once (a module-scoped fixture); each test checks one
promise an instructor relies on.
"""

from __future__ import annotations

import csv
import html
import json
import re

import nbformat
import pytest
from pypdf import PdfReader

from conftest import REPO
from course_lib.instructor.course import Course, copy_course, notebook_path
from lifecycle import run_lifecycle

ASSIGNMENTS = Course(REPO).assignments()
pytestmark = pytest.mark.lifecycle


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def run(request, tmp_path_factory):
    root = copy_course(REPO, tmp_path_factory.mktemp(request.param), [request.param]).root
    return run_lifecycle(root, request.param)


def region_lines(source_nb, begin: str, end: str) -> set[str]:
    """Distinctive lines inside BEGIN/END regions that appear nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in source_nb.cells:
        within = False
        for line in cell.source.splitlines():
            text = line.strip()
            if begin in text:
                within = True
            elif end in text:
                within = False
            else:
                (inside if within else outside).add(text)
    return {line for line in inside - outside if len(line) >= 12 and not line.startswith("#")}


def source_nb(assignment):
    return nbformat.read(REPO / notebook_path("source", assignment), as_version=4)


# --- source ---------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_has_no_outputs(assignment):
    nb = source_nb(assignment)
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
    assert with_outputs == [], f"Source cells {with_outputs} have saved outputs."


def test_source_notebook_validates(run):
    assert run.source_validation == {}, json.dumps(run.source_validation, indent=1)[:3000]


# --- release --------------------------------------------------------------------------

def test_committed_release_is_what_generation_makes(run):
    generated = run.course.root / "release" / run.assignment
    committed = REPO / "release" / run.assignment
    names = sorted(p.relative_to(generated) for p in generated.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()), \
        "release/ lists other files than generation makes: run `make demo` and commit release/."
    for name in names:
        assert (generated / name).read_bytes() == (committed / name).read_bytes(), \
            f"release/{run.assignment}/{name} is stale: run `make demo` and commit release/."


def test_release_has_no_solutions_hidden_tests_or_outputs(run):
    release = nbformat.read(run.course.notebook("release", run.assignment), as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert not any(cell.get("outputs") for cell in release.cells if cell.cell_type == "code")
    source = source_nb(run.assignment)
    secret = (region_lines(source, "BEGIN SOLUTION", "END SOLUTION")
              | region_lines(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
    assert secret, "The source notebook should have solution and hidden-test regions."
    leaked = [line for line in secret if line in text]
    assert leaked == []


def test_every_test_fails_on_the_untouched_release(run):
    """`nbgrader validate --invert` on the release: no test cell may pass unanswered."""
    assert run.release_inverted == {}, json.dumps(run.release_inverted, indent=1)[:3000]


# --- autograde ------------------------------------------------------------------------

def test_reference_gets_every_autograded_point(run):
    short = {name: (g.auto_score, g.max_score) for name, g in run.autograded("reference").items()
             if g.auto_score != g.max_score}
    assert run.autograded("reference"), "The assignment should have autograded tests."
    assert short == {}


def test_reference_writes_nothing_to_stderr(run):
    """nbgrader scores a test cell 0 on any stderr: no library line may reach any cell."""
    graded = nbformat.read(run.course.notebook("autograded", run.assignment, "reference"), as_version=4)
    stderr = {cell.get("id", index): output.text
              for index, cell in enumerate(graded.cells) if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "stream" and output.name == "stderr"}
    assert stderr == {}


def test_blank_release_gets_zero(run):
    scored = {name: g.auto_score for name, g in run.autograded("blank").items() if g.auto_score}
    assert scored == {}


def test_wrong_submission_loses_exactly_the_matching_points(run):
    grades = run.autograded("wrong")
    assert set(run.wrong.loses) <= set(grades), "wrong_submission.json names unknown test cells."
    lost = {name for name, g in grades.items() if g.auto_score != g.max_score}
    assert lost == set(run.wrong.loses)
    assert all(grades[name].auto_score == 0 for name in run.wrong.loses)


def test_manual_answers_wait_for_a_person(run):
    manual = [g for g in run.grades["reference"].values() if g.manual]
    assert manual, "The assignment should have manually graded written answers."
    assert all(g.auto_score is None or g.auto_score == 0 for g in manual)


# --- feedback, grades, PDFs -----------------------------------------------------------

def test_feedback_shows_results_but_no_hidden_test_code(run):
    hidden = region_lines(source_nb(run.assignment), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    for student, path in run.feedback.items():
        page = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
        assert "HIDDEN TESTS" not in page, student
        assert [line for line in hidden if line in page] == [], student
    wrong_page = html.unescape(re.sub(r"<[^>]+>", "", run.feedback["wrong"].read_text()))
    assert wrong_page.count("Test failed:") >= len(run.wrong.loses), \
        "The wrong submission's feedback should say which tests failed."


def test_grades_csv_has_each_students_score(run):
    with open(run.grades_csv) as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)
                if row["assignment"] == run.assignment}
    auto_max = sum(g.max_score for g in run.autograded("reference").values())
    lost = sum(g.max_score for name, g in run.autograded("wrong").items() if name in run.wrong.loses)
    assert float(rows["reference"]["score"]) == auto_max
    assert float(rows["blank"]["score"]) == 0
    assert float(rows["wrong"]["score"]) == auto_max - lost


def test_peer_review_pdfs_hold_the_written_answers(run):
    assert len(run.pdfs) == 3
    answers = [cell.source for cell in source_nb(run.assignment).cells
               if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")]
    phrase = " ".join(answers[0].split()[:4])
    hidden = region_lines(source_nb(run.assignment), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    key = (run.pdfs[0].parent / "key.csv").read_text()
    for pdf, student in zip(run.pdfs, ("reference", "blank", "wrong")):
        assert pdf.read_bytes().startswith(b"%PDF")
        assert pdf.stat().st_size <= 5_000_000, f"{pdf.name} is larger than 5 MB"
        assert student not in pdf.name, "Peer-review PDFs should be anonymous."
        assert f"{pdf.stem},{student}" in key
        text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
        assert not [line for line in hidden if line in text]
        if student == "reference":
            assert phrase in text, f"The reference PDF should contain its answer {phrase!r}."
        if student == "blank":
            assert "YOUR ANSWER HERE" in text
