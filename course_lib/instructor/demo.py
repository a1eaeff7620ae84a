"""The bundled demo submissions, derived from the current source so they never drift.

For every assignment there are three demo students:

- ``reference``: the instructor's solution as a student would submit it (hidden tests
  and solution delimiters removed, no outputs). It must get every autograded point.
- ``blank``: the release notebook untouched. It must get 0 autograded points.
- ``wrong``: the reference with the mistakes listed in ``demo/<id>/wrong_submission.json``
  (``replace``: pairs of text to find in the notebook and its replacement, each found
  exactly once). It must lose exactly the points of the test cells listed in ``loses``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput

from .course import notebook_path

STUDENTS = ("reference", "blank", "wrong")
SOLUTION_DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")


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
