"""The instructor pipeline, driven through nbgrader's Python API.

``course demo`` runs it on the bundled demo submissions: generate
each release, add the demo students, autograde, generate feedback (hidden tests
stripped), export ``grades.csv`` and the peer-review PDFs, and print a summary table.
The same steps are what an instructor runs with the plain ``nbgrader`` commands (see the
README); the lifecycle tests call them one by one.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.validator import Validator

from . import demo, peer_review
from .course import Course
from .sandbox import in_sandbox


class PipelineError(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's log."""


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of one submission."""

    name: str
    auto_score: float | None
    max_score: float
    manual: bool


class Pipeline(Course):
    """A course folder and nbgrader's steps on it, in the order an instructor runs them."""

    # --- steps --------------------------------------------------------------------------

    def validate(self, path: Path, invert: bool = False) -> dict:
        """nbgrader's validator on one notebook, run in the sandbox; an empty dict means it
        passed. (nbgrader 0.9.6 offers no setting for the validator's steps, so the course
        passes its own list here.)"""
        steps = in_sandbox(Validator.class_traits()["preprocessors"].default())
        return Validator(config=self.config, invert=invert, preprocessors=steps).validate(str(path))

    def generate(self, assignment: str) -> Path:
        self._check(self.api.generate_assignment(assignment, force=True, create=True),
                    f"generate_assignment {assignment}")
        return self.notebook("release", assignment)

    def submit(self, assignment: str, student: str, nb) -> Path:
        """Place a notebook where ``nbgrader collect`` would, and add the student."""
        path = self.notebook("submitted", assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        (path.parent / "timestamp.txt").write_text(stamp)
        with self.api.gradebook as gradebook:
            gradebook.update_or_create_student(student)
        return path

    def autograde(self, assignment: str, student: str) -> float:
        """Autograde one submission; returns the wall time in seconds. A submission that is
        not a readable notebook raises PipelineError before nbgrader touches the gradebook."""
        self._check_readable(self.notebook("submitted", assignment, student), student)
        start = time.perf_counter()
        self._check(self.api.autograde(assignment, student, force=True, create=True),
                    f"autograde {assignment} for {student}")
        return time.perf_counter() - start

    def feedback(self, assignment: str, student: str) -> Path:
        self._check(self.api.generate_feedback(assignment, student, force=True),
                    f"generate_feedback {assignment} for {student}")
        return self.root / "feedback" / student / assignment / f"{assignment}.html"

    def grades(self, assignment: str, student: str) -> dict[str, CellGrade]:
        """Every graded cell of the submission, by its nbgrader cell id."""
        with self.api.gradebook as gradebook:
            submission = gradebook.find_submission_notebook(assignment, assignment, student)
            return {g.name: CellGrade(g.name, g.auto_score, g.max_score, g.needs_manual_grade
                                      or g.cell.cell_type == "markdown")
                    for g in submission.grades}

    def export_grades(self, path: Path | None = None) -> Path:
        path = Path(path or self.root / "grades.csv")
        with self.api.gradebook as gradebook:
            CsvExportPlugin(to=str(path)).export(gradebook)
        return path

    def peer_review_pdfs(self, assignment: str, students: list[str]) -> list[Path]:
        """One anonymous PDF per student from the submitted notebook, plus ``key.csv``
        (anonymous code -> student) for the instructor only. A submission that is not a
        readable notebook is skipped and reported (PipelineError) once the others are done."""
        folder = self.root / "peer_review" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        rows, pdfs, unreadable = ["code,student"], [], []
        for student in students:
            try:
                self._check_readable(self.notebook("submitted", assignment, student), student)
            except PipelineError as error:
                unreadable.append(str(error))
                continue
            code = hashlib.sha256(f"{assignment}:{student}".encode()).hexdigest()[:8]
            pdfs.append(peer_review.notebook_to_pdf(
                self.notebook("submitted", assignment, student), folder / f"{code}.pdf",
                title=f"{assignment}: peer review copy {code}"))
            rows.append(f"{code},{student}")
        (folder / "key.csv").write_text("\n".join(rows) + "\n")
        if unreadable:
            raise PipelineError("No peer-review PDF for these submissions:\n" + "\n".join(unreadable))
        return pdfs

    @staticmethod
    def _check_readable(path: Path, student: str) -> None:
        try:
            nbformat.read(path, as_version=4)
        except (OSError, ValueError, AttributeError, nbformat.ValidationError) as error:
            raise PipelineError(f"The submission of {student} ({path}) is not a readable notebook "
                                f"({error}); ask for it again.") from error

    @staticmethod
    def _check(result: dict, what: str) -> None:
        if not result.get("success"):
            raise PipelineError(f"nbgrader {what} failed:\n{result.get('error')}\n{result.get('log')}")


@dataclass(frozen=True)
class SummaryRow:
    student: str
    assignment: str
    score: float
    max_score: float
    seconds: float


def summarise(course: Pipeline, assignment: str, student: str, seconds: float) -> SummaryRow:
    grades = course.grades(assignment, student).values()
    auto = [g for g in grades if not g.manual]
    return SummaryRow(student, assignment, sum(g.auto_score or 0 for g in auto),
                      sum(g.max_score for g in auto), seconds)


def run_demo(root: str | Path = ".", assignments: list[str] | None = None) -> list[SummaryRow]:
    """The whole instructor pipeline on the demo submissions of each assignment."""
    course = Pipeline(root)
    rows, failures = [], []
    for assignment in assignments or course.assignments():
        print(f"== {assignment}: generate release", flush=True)
        course.generate(assignment)
        graded = []
        for student, nb in demo.demo_notebooks(course.root, assignment).items():
            course.submit(assignment, student, nb)
            print(f"   autograde {student} ...", flush=True)
            try:
                seconds = course.autograde(assignment, student)
                course.feedback(assignment, student)
            except PipelineError as error:  # one bad submission must not stop the others
                print(f"   FAILED: {student} (reported at the end)", flush=True)
                failures.append(f"{assignment} / {student}: {error}")
                continue
            rows.append(summarise(course, assignment, student, seconds))
            graded.append(student)
        course.peer_review_pdfs(assignment, graded)
    course.export_grades()
    print_summary(rows)
    print(f"\nGrades: {course.root / 'grades.csv'}\nFeedback: {course.root / 'feedback'}"
          f"\nPeer-review PDFs: {course.root / 'peer_review'}")
    if failures:
        raise PipelineError(f"{len(failures)} submission(s) could not be graded:\n"
                            + "\n\n".join(failures))
    return rows


def print_summary(rows: list[SummaryRow]) -> None:
    print(f"\n{'assignment':<24} {'student':<10} {'score':>6} {'max':>6} {'autograde s':>12}")
    for r in rows:
        print(f"{r.assignment:<24} {r.student:<10} {r.score:>6g} {r.max_score:>6g} {r.seconds:>12.1f}")


def demo_command(args) -> int:
    """``course demo``: the whole pipeline on the demo submissions."""
    run_demo(args.root, args.assignments or None)
    return 0


def peer_review_command(args) -> int:
    """``course peer-review``: PDFs of every submission of one assignment."""
    course = Pipeline(args.root)
    for pdf in course.peer_review_pdfs(args.assignment, course.submitted_students(args.assignment)):
        print(pdf)
    return 0
