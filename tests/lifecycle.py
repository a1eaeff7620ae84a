"""The instructor workflow on one assignment, step by step, in a copy of the course.

validate source -> generate release -> validate --invert on the release -> autograde the
demo submissions (reference, blank, wrong) -> feedback -> grades.csv -> peer-review PDFs.
The lifecycle tests run this once per assignment and then check each result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course_lib.instructor import demo
from course_lib.instructor.pipeline import CellGrade, Pipeline


@dataclass
class LifecycleRun:
    course: Pipeline
    assignment: str
    wrong: demo.WrongSubmission
    source_validation: dict = field(default_factory=dict)
    release_inverted: dict = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    grades: dict[str, dict[str, CellGrade]] = field(default_factory=dict)
    feedback: dict[str, Path] = field(default_factory=dict)
    grades_csv: Path | None = None
    pdfs: list[Path] = field(default_factory=list)

    def autograded(self, student: str) -> dict[str, CellGrade]:
        return {name: g for name, g in self.grades[student].items() if not g.manual}


def run_lifecycle(root: Path, assignment: str) -> LifecycleRun:
    course = Pipeline(root)
    run = LifecycleRun(course, assignment,
                       demo.WrongSubmission.load(root / "demo" / assignment / "wrong_submission.json"))
    run.source_validation = course.validate(course.notebook("source", assignment))
    course.generate(assignment)
    run.release_inverted = course.validate(course.notebook("release", assignment), invert=True)
    for student, nb in demo.demo_notebooks(root, assignment).items():
        course.submit(assignment, student, nb)
        run.seconds[student] = course.autograde(assignment, student)
        run.feedback[student] = course.feedback(assignment, student)
        run.grades[student] = course.grades(assignment, student)
        print(f"{assignment}: autograded {student} in {run.seconds[student]:.1f} s")
    run.grades_csv = course.export_grades()
    run.pdfs = course.peer_review_pdfs(assignment, list(demo.STUDENTS))
    return run
