"""A tiny, framework-free nbgrader course (assignment ``lab0``: square and cube) for tests
of the pipeline and the sandbox: a source notebook with visible and hidden tests and a
manually graded answer, the course folder around it, and its reference submission."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import REPO
from checks import nbgrader_meta
from course_lib.instructor import demo
from course_lib.instructor.course import KERNEL_DISPLAY_NAME, KERNEL_NAME, notebook_path
from course_lib.instructor.pipeline import Pipeline

ASSIGNMENT = "lab0"
HIDDEN_LINE = "assert square(-5) == 25, 'square(-5) should be 25.'"


def source_notebook():
    """Two functions, their tests (the cube test comes first, so a cube that hangs is followed
    by more grading), and a manually graded answer."""
    cells = [
        new_markdown_cell("# Lab 0: squares and cubes", metadata=nbgrader_meta("intro", locked=True)),
        new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                      metadata=nbgrader_meta("square", solution=True)),
        new_code_cell("def cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION",
                      metadata=nbgrader_meta("cube", solution=True)),
        new_code_cell("assert cube(2) == 8, 'cube(2) should be 8.'",
                      metadata=nbgrader_meta("test_cube", grade=True, points=1, locked=True)),
        new_code_cell("assert square(2) == 4, 'square(2) should be 4.'\n### BEGIN HIDDEN TESTS\n"
                      f"{HIDDEN_LINE}\n### END HIDDEN TESTS",
                      metadata=nbgrader_meta("test_square", grade=True, points=2, locked=True)),
        new_markdown_cell("Why is a square never negative?",
                          metadata=nbgrader_meta("q1", grade=True, solution=True, points=2)),
    ]
    for cell in cells:
        cell["id"] = cell.metadata["nbgrader"]["grade_id"].replace("_", "-")
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME,
                       "language": "python"},
        "language_info": {"name": "python"}})


def make_course(root: Path) -> Path:
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), root / notebook_path("source", ASSIGNMENT))
    (root / "demo" / ASSIGNMENT).mkdir(parents=True)
    (root / "demo" / ASSIGNMENT / "wrong_submission.json").write_text(json.dumps({
        "description": "adds instead of multiplying", "replace": [["return x * x", "return x + x"]],
        "loses": ["test_square"]}))
    return root


def reference():
    return demo.reference_notebook(source_notebook())


def scores(course: Pipeline, student: str) -> dict[str, tuple]:
    return {name: (g.auto_score, g.max_score, g.manual)
            for name, g in course.grades(ASSIGNMENT, student).items()}


FULL_MARKS = {"test_cube": (1.0, 1.0, False), "test_square": (2.0, 2.0, False),
              "q1": (None, 2.0, True)}
