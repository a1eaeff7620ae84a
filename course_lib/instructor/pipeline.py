"""The instructor pipeline, driven through nbgrader's Python API.

``course demo`` runs it on the bundled demo submissions: generate
each release, add the demo students, autograde, generate feedback (hidden tests
stripped), export ``grades.csv`` and the peer-review PDFs, and print a summary table.
The same steps are what an instructor runs with the plain ``nbgrader`` commands (see the
README); the lifecycle tests call them one by one.
"""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.validator import Validator

from . import demo, integrity, peer_review
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
        return self.notebook("feedback", assignment, student).with_suffix(".html")

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

    def peer_review_pdfs(self, assignment: str, students: list[str], reviewers: int = 0,
                         seed: int = 0) -> list[Path]:
        """One anonymous PDF per student from the submitted notebook, ``key.csv`` (anonymous
        code -> student) for the instructor only and, with ``reviewers`` > 0, who reviews whom
        (``allocation.csv``, one folder per reviewer). A submission that is not a readable
        notebook is skipped and reported (PipelineError) once the others are done."""
        folder = self.root / "peer_review" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        questions = peer_review.review_questions(
            nbformat.read(self.notebook("release", assignment), as_version=4))
        codes = self._review_codes(folder / "key.csv", students)
        pdfs, unreadable, done = [], [], {}
        for student in students:
            try:
                self._check_readable(self.notebook("submitted", assignment, student), student)
            except PipelineError as error:
                unreadable.append(str(error))
                continue
            pdfs.append(peer_review.notebook_to_pdf(
                self.notebook("submitted", assignment, student), folder / f"{codes[student]}.pdf",
                assignment=assignment, code=codes[student], questions=questions))
            done[student] = codes[student]
        (folder / "key.csv").write_text("code,student\n" + "".join(
            f"{code},{student}\n" for student, code in done.items()))
        if reviewers:
            peer_review.write_reviewer_folders(folder, assignment, done, questions, reviewers, seed)
        if unreadable:
            raise PipelineError("No peer-review PDF for these submissions:\n" + "\n".join(unreadable))
        return pdfs

    @staticmethod
    def _review_codes(key: Path, students: list[str]) -> dict[str, str]:
        """Anonymous codes: random (a code says nothing about the student), kept in the
        instructor's key so a student's code stays the same when the PDFs are made again."""
        codes = {}
        if key.is_file():
            codes = {row["student"]: row["code"] for row in csv.DictReader(key.open())}
        for student in students:
            while student not in codes or list(codes.values()).count(codes[student]) > 1:
                codes[student] = secrets.token_hex(4)
        return codes

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
    review: tuple[str, ...] = ()   # integrity findings that withheld the points
    notes: tuple[str, ...] = ()    # integrity notes (points kept)


def summarise(course: Pipeline, assignment: str, student: str, seconds: float) -> SummaryRow:
    grades = course.grades(assignment, student).values()
    auto = [g for g in grades if not g.manual]
    graded = nbformat.read(course.notebook("autograded", assignment, student), as_version=4)
    found = integrity.findings_of(graded)
    describe = [tuple(f"{e['cell']}, line {e['line']}: {e['reason']}" for e in found.get(key, []))
                for key in ("review", "notes")]
    score = 0.0 if describe[0] else sum(g.auto_score or 0 for g in auto)
    return SummaryRow(student, assignment, score, sum(g.max_score for g in auto), seconds, *describe)


#: In the demo, each student reviews this many others (fewer when fewer have submitted).
DEMO_REVIEWERS = 2


def run_demo(root: str | Path = ".", assignments: list[str] | None = None) -> list[SummaryRow]:
    """The whole instructor pipeline on the demo submissions of each assignment."""
    course = Pipeline(root)
    rows, failures, run_seconds = [], [], {}
    started = time.perf_counter()
    for assignment in assignments or course.assignments():
        print(f"== {assignment}: generate release", flush=True)
        course.generate(assignment)
        graded = []
        for student, nb in demo.demo_notebooks(course.root, assignment).items():
            print(f"   {student} runs the notebook ...", flush=True)
            start = time.perf_counter()
            try:
                nb = demo.run_as_student(nb)
            except demo.StudentRunError as error:  # grade it as handed in, unexecuted
                print(f"   {error}; submitting it without outputs", flush=True)
            run_seconds[assignment, student] = time.perf_counter() - start
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
        course.peer_review_pdfs(assignment, graded, reviewers=max(0, min(DEMO_REVIEWERS, len(graded) - 1)))
    course.export_grades()
    print_summary(rows)
    student_runs = sum(run_seconds.values())
    print(f"\nDemo students ran their notebooks in {student_runs:.0f} s; the whole demo took "
          f"{time.perf_counter() - started:.0f} s.")
    print(f"\nGrades: {course.root / 'grades.csv'}\nFeedback: {course.root / 'feedback'}"
          f"\nPeer-review PDFs: {course.root / 'peer_review'}")
    if failures:
        raise PipelineError(f"{len(failures)} submission(s) could not be graded:\n"
                            + "\n\n".join(failures))
    return rows


def print_summary(rows: list[SummaryRow]) -> None:
    print(f"\n{'assignment':<24} {'student':<10} {'score':>6} {'max':>6} {'autograde s':>12}  flags")
    for r in rows:
        flags = "REVIEW (points withheld)" if r.review else ("notes" if r.notes else "")
        print(f"{r.assignment:<24} {r.student:<10} {r.score:>6g} {r.max_score:>6g} {r.seconds:>12.1f}  {flags}")
    for r in rows:
        for finding in r.review:
            print(f"  review {r.assignment} / {r.student}: {finding}")
        for finding in r.notes:
            print(f"  note   {r.assignment} / {r.student}: {finding}")


def demo_command(args) -> int:
    """``course demo``: the whole pipeline on the demo submissions."""
    run_demo(args.root, args.assignments or None)
    return 0


def peer_review_command(args) -> int:
    """``course peer-review``: PDFs of every submission of one assignment and, with
    ``--reviewers K``, who reviews whom."""
    course = Pipeline(args.root)
    students = course.submitted_students(args.assignment)
    for pdf in course.peer_review_pdfs(args.assignment, students, args.reviewers, args.seed):
        print(pdf)
    folder = course.root / "peer_review" / args.assignment
    print(f"Key (instructor only): {folder / 'key.csv'}")
    if args.reviewers:
        print(f"Allocation: {folder / 'allocation.csv'}; hand each student their folder in "
              f"{folder / 'reviewers'}")
    return 0
