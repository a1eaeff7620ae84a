"""Shared measurements for the per-assignment benchmarks (run from the repo root with the
course environment active; COURSE_DATA picks the data variant).

- ``full_run``: the student's own run of the reference solution (no NBGRADER_EXECUTION),
  executed by nbclient with the course kernel; returns seconds and what ``report_code``
  printed as JSON on its last line.
- ``autograde_times``: the demo pipeline's autograde wall time for each demo student, in a
  temporary copy of the course.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from course_lib import data
from course_lib.instructor import demo
from course_lib.instructor.course import KERNEL_NAME, copy_course, notebook_path
from course_lib.instructor.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[1]


def dataset() -> data.MnistSource:
    """The MNIST file every benchmark runs on; without one, the numbers would time notebooks
    failing at their first data cell, so stop with the way to fix it."""
    try:
        source = data.resolve_mnist(download=False)
    except (data.MnistNotFoundError, data.MnistChecksumError) as error:
        raise SystemExit(f"benchmark: {error}") from None
    print(f"data: {source.variant} MNIST ({source.path}, from {source.origin})", flush=True)
    return source


def require_full_marks(course: Pipeline, assignment: str, student: str) -> None:
    """A timing of a reference submission counts only if it earned every autograded point."""
    short = {name: g for name, g in course.grades(assignment, student).items()
             if not g.manual and (g.auto_score or 0) < g.max_score}
    if short:
        raise SystemExit(f"benchmark: {assignment} submission {student} lost points in "
                         f"{sorted(short)}; its timing would not be a grading run.")


def scratch_course(assignment: str, target: Path) -> Pipeline:
    """A course folder in ``target`` holding only ``assignment``'s source and demo."""
    return Pipeline(copy_course(REPO, target, [assignment]).root)


def execute_reference(assignment: str, extra_code: str = "", replace: list[tuple[str, str]] = (),
                      timeout: int = 1800):
    """Execute the reference notebook as a student would (no NBGRADER_EXECUTION), with
    ``extra_code`` as a last cell; ``replace`` edits it first (e.g. another seed), each text
    found exactly once. Returns the executed notebook and the wall time in seconds."""
    source = nbformat.read(REPO / notebook_path("source", assignment), as_version=4)
    nb = demo.reference_notebook(source)
    if replace:
        nb = demo.wrong_notebook(nb, demo.WrongSubmission("benchmark variant", list(replace), []))
    if extra_code:
        nb.cells.append(new_code_cell(extra_code))
    env_backup = os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=timeout,
                           resources={"metadata": {"path": tmp}}).execute()
            seconds = time.perf_counter() - start
    finally:
        if env_backup is not None:
            os.environ["NBGRADER_EXECUTION"] = env_backup
    return nb, seconds


def full_run(assignment: str, report_code: str, replace: list[tuple[str, str]] = (),
             timeout: int = 1800) -> tuple[float, dict]:
    """The student's run of the reference; ``report_code`` must print one JSON object
    (e.g. the test accuracy) as its last line. Returns seconds and that object."""
    nb, seconds = execute_reference(assignment, report_code, replace, timeout)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return seconds, json.loads(text.strip().splitlines()[-1])


def autograde_times(assignment: str) -> dict[str, float]:
    """Seconds to autograde each demo submission (reference, blank, wrong)."""
    with tempfile.TemporaryDirectory() as tmp:
        course = scratch_course(assignment, Path(tmp))
        course.generate(assignment)
        times = {}
        for student, nb in demo.demo_notebooks(course.root, assignment).items():
            course.submit(assignment, student, nb)
            times[student] = course.autograde(assignment, student)
        require_full_marks(course, assignment, "reference")
        return times
