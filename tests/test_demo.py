"""course_lib.instructor.demo: demo submissions derived from a source notebook."""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from checks import nbgrader_meta
from course_lib.instructor import demo


def source_notebook():
    return new_notebook(cells=[
        new_markdown_cell("# Squares"),
        new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                      metadata=nbgrader_meta("square", solution=True),
                      outputs=[new_output("stream", name="stdout", text="left over\n")], execution_count=3),
        new_code_cell("assert square(2) == 4, 'square(2) should be 4.'\n"
                      "### BEGIN HIDDEN TESTS\nassert square(-5) == 25, 'hidden'\n### END HIDDEN TESTS",
                      metadata=nbgrader_meta("test_square", grade=True, points=1)),
        new_markdown_cell("Square of 2 is 4, of 3 is 9.", metadata=nbgrader_meta("q1", True, True, 1)),
    ])


def test_reference_notebook():
    source = source_notebook()
    reference = demo.reference_notebook(source)
    solution, test = reference.cells[1], reference.cells[2]
    assert solution.source == "def square(x):\n    return x * x"
    assert test.source.strip() == "assert square(2) == 4, 'square(2) should be 4.'"
    assert "hidden" not in test.source and "HIDDEN" not in test.source
    assert all(cell.outputs == [] and cell.execution_count is None
               for cell in reference.cells if cell.cell_type == "code")
    assert reference.cells[3].source == "Square of 2 is 4, of 3 is 9."
    # the source is not changed
    assert "### BEGIN SOLUTION" in source.cells[1].source and source.cells[1].outputs
    assert "BEGIN HIDDEN TESTS" in source.cells[2].source


def test_wrong_notebook_makes_each_replacement():
    reference = demo.reference_notebook(source_notebook())
    mistakes = demo.WrongSubmission("squares are doubled", [("return x * x", "return x + x"),
                                                            ("of 3 is 9", "of 3 is 6")], ["test_square"])
    wrong = demo.wrong_notebook(reference, mistakes)
    assert wrong.cells[1].source == "def square(x):\n    return x + x"
    assert wrong.cells[3].source == "Square of 2 is 4, of 3 is 6."
    assert reference.cells[1].source == "def square(x):\n    return x * x"


@pytest.mark.parametrize("old, count", [("return x ** 2", 0), ("is", 2), ("square", 3)])
def test_wrong_notebook_rejects_missing_or_ambiguous_text(old, count):
    reference = demo.reference_notebook(source_notebook())
    # 'is' occurs twice in one cell; 'square' in three places across two cells
    with pytest.raises(ValueError) as error:
        demo.wrong_notebook(reference, demo.WrongSubmission("x", [(old, "y")], []))
    assert repr(old) in str(error.value)
    assert f"it occurs {count} times" in str(error.value)


def test_wrong_submission_load(tmp_path):
    path = tmp_path / "wrong_submission.json"
    path.write_text(json.dumps({"description": "d", "replace": [["a", "b"], ["c", "d"]],
                                "loses": ["test_square"]}))
    mistakes = demo.WrongSubmission.load(path)
    assert mistakes == demo.WrongSubmission("d", [("a", "b"), ("c", "d")], ["test_square"])


def test_wrong_submission_load_missing_key(tmp_path):
    path = tmp_path / "wrong_submission.json"
    path.write_text(json.dumps({"description": "d", "replace": []}))
    with pytest.raises(KeyError, match="loses"):
        demo.WrongSubmission.load(path)


def test_run_as_student_runs_every_cell_in_grading_mode_in_a_scratch_folder(tmp_path, monkeypatch):
    """Run All in the course kernel: outputs, figures and errors kept, like a student's run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # an instructor's shell setting must not hide plots
    nb = new_notebook(cells=[
        new_code_cell("import os\nprint(os.environ.get('NBGRADER_EXECUTION'))\nopen('left.txt', 'w').write('x')"),
        new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.title('a line')\nplt.show()"),
        new_code_cell("raise NotImplementedError()"),
        new_code_cell("print('after the error')"),
    ])
    ran = demo.run_as_student(nb, timeout=120)
    printed, figure, error, after = ran.cells
    assert printed.outputs[0].text == "autograde\n"
    assert any("image/png" in o.get("data", {}) for o in figure.outputs)
    assert error.outputs[0].ename == "NotImplementedError"
    assert after.outputs[0].text == "after the error\n"
    assert [c.execution_count for c in ran.cells] == [1, 2, 3, 4]
    assert nb.cells[0].outputs == [], "the given notebook is not changed"
    assert list(tmp_path.iterdir()) == [], "files the notebook writes go to a scratch folder"
