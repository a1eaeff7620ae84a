"""The bundled demo submissions, derived from the current source so they never drift.

For every assignment there are three demo students:

- ``reference``: the instructor's solution as a student would submit it (hidden tests
  and solution delimiters removed, no outputs). It must get every autograded point.
- ``blank``: the release notebook untouched. It must get 0 autograded points.
- ``wrong``: the reference with the mistakes listed in ``demo/<id>/wrong_submission.json``
  (``replace``: pairs of text to find in the notebook and its replacement, each found
  exactly once). It must lose exactly the points of the test cells listed in ``loses``.

``course demo`` runs each of them first as a student would before submitting
(:func:`run_as_student`), so the demo's feedback and peer-review PDFs show outputs and plots.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput

from .course import KERNEL_NAME, notebook_path

STUDENTS = ("reference", "blank", "wrong")
#: JupyterLab's plot backend: figures become outputs, as in a student's own run (an
#: instructor's shell may have set MPLBACKEND=Agg, which shows nothing).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
SOLUTION_DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")


class StudentRunError(RuntimeError):
    """A demo notebook could not be run to the end (its kernel died or a cell hung)."""


@dataclass(frozen=True)
class WrongSubmission:
    description: str
    replace: list[tuple[str, str]]
    loses: list[str]

    @classmethod
    def load(cls, path: Path) -> "WrongSubmission":
        spec = json.loads(Path(path).read_text())
        return cls(spec["description"], [tuple(pair) for pair in spec["replace"]], list(spec["loses"]))


def reference_notebook(source_nb):
    """The solution notebook as a student would hand it in."""
    nb = copy.deepcopy(source_nb)
    nb, _ = ClearHiddenTests().preprocess(nb, {})
    nb, _ = ClearOutput().preprocess(nb, {})
    for cell in nb.cells:
        lines = cell.source.split("\n")
        cell.source = "\n".join(line for line in lines if line.strip() not in SOLUTION_DELIMITERS)
    return nb


def wrong_notebook(reference_nb, mistakes: WrongSubmission):
    """The reference with the listed mistakes made; each text must be found exactly once."""
    nb = copy.deepcopy(reference_nb)
    for old, new in mistakes.replace:
        hits = [cell for cell in nb.cells if old in cell.source]
        count = sum(cell.source.count(old) for cell in hits)
        if count != 1:
            raise ValueError(f"Wrong-submission text {old!r} should occur once in the notebook; "
                             f"it occurs {count} times.")
        hits[0].source = hits[0].source.replace(old, new)
    return nb


def demo_notebooks(course_root: Path, assignment: str) -> dict:
    """{student: notebook} for the three demo students of ``assignment``."""
    root = Path(course_root)
    source = nbformat.read(root / notebook_path("source", assignment), as_version=4)
    release = nbformat.read(root / notebook_path("release", assignment), as_version=4)
    reference = reference_notebook(source)
    mistakes = WrongSubmission.load(root / "demo" / assignment / "wrong_submission.json")
    return {"reference": reference, "blank": release, "wrong": wrong_notebook(reference, mistakes)}


def run_as_student(nb, timeout: int = 900, kernel_name: str = KERNEL_NAME):
    """``nb`` after Run All in the course kernel, as a student runs it before submitting:
    outputs, plots and errors kept (a blank notebook fails as a student's would). In grading
    mode (``NBGRADER_EXECUTION``) to keep the demo fast, in a temporary folder so files the
    notebook writes go nowhere. Only for the instructor's own demo content: unsandboxed."""
    nb = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory(prefix="course-demo-") as folder:
        client = NotebookClient(nb, timeout=timeout, startup_timeout=300, kernel_name=kernel_name,
                                allow_errors=True, resources={"metadata": {"path": folder}})
        try:
            # What the kernel process itself prints (TensorFlow's start-up lines) is not the
            # notebook's output: keep it off the instructor's terminal.
            client.execute(env={**os.environ, "NBGRADER_EXECUTION": "autograde",
                                "MPLBACKEND": INLINE_BACKEND},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (CellTimeoutError, RuntimeError) as error:  # a hung cell; a kernel that died or never started
            raise StudentRunError(f"The demo notebook did not run to the end: {error}") from error
    return nb
