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
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from course_lib import demo
from course_lib.pipeline import Course

REPO = Path(__file__).resolve().parents[1]
KERNEL = "course-mnist"


def full_run(assignment: str, report_code: str, replace: list[tuple[str, str]] = (),
             timeout: int = 1800) -> tuple[float, dict]:
    """Execute the reference notebook as a student would; ``report_code`` must print one
    JSON object (e.g. the test accuracy) as its last line. ``replace`` edits the notebook
    first (e.g. another seed), each text found exactly once."""
    source = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    nb = demo.reference_notebook(source)
    if replace:
        nb = demo.wrong_notebook(nb, demo.WrongSubmission("benchmark variant", list(replace), []))
    nb.cells.append(new_code_cell(report_code))
    env_backup = os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            NotebookClient(nb, kernel_name=KERNEL, timeout=timeout,
                           resources={"metadata": {"path": tmp}}).execute()
            seconds = time.perf_counter() - start
    finally:
        if env_backup is not None:
            os.environ["NBGRADER_EXECUTION"] = env_backup
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return seconds, json.loads(text.strip().splitlines()[-1])


def autograde_times(assignment: str) -> dict[str, float]:
    """Seconds to autograde each demo submission (reference, blank, wrong)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        for folder in ("source", "demo"):
            shutil.copytree(REPO / folder / assignment, root / folder / assignment)
        course = Course(root)
        course.generate(assignment)
        times = {}
        for student, nb in demo.demo_notebooks(root, assignment).items():
            course.submit(assignment, student, nb)
            times[student] = course.autograde(assignment, student)
        return times
