"""course_lib.instructor.feedback.HideHiddenTests on a synthetic autograded notebook."""

from __future__ import annotations

import copy

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from conftest import REPO
from checks import nbgrader_meta
from course_lib.instructor.feedback import HIDDEN_NOTE, HideHiddenTests, is_test_cell


TEST_SOURCE = """\
assert f(2) == 4, "f(2) should be 4."
### BEGIN HIDDEN TESTS
_secret = f(123456)
assert _secret == 15241383936, "f should square big numbers too."
### END HIDDEN TESTS
print("visible tail")"""

TRACEBACK = ["\x1b[0;31mAssertionError\x1b[0m   Traceback (most recent call last)",
             "Cell In[3], line 4\n      2 _secret = f(123456)\n----> 4 assert _secret == 15241383936",
             "\x1b[0;31mAssertionError\x1b[0m: f should square big numbers too."]


def error_output(traceback):
    return new_output("error", ename="AssertionError", evalue="f should square big numbers too.",
                      traceback=list(traceback))


def autograded_notebook():
    solution = new_code_cell("def f(x):\n    return x * x  # BEGIN HIDDEN TESTS is just text here",
                             metadata=nbgrader_meta("f_impl", solution=True))
    failed_test = new_code_cell(TEST_SOURCE, metadata=nbgrader_meta("test_f", grade=True, points=2),
                                outputs=[new_output("stream", name="stdout", text="before\n"),
                                         error_output(TRACEBACK)])
    passed_test = new_code_cell("assert True\n### BEGIN HIDDEN TESTS\nassert f(3) == 9\n### END HIDDEN TESTS",
                                metadata=nbgrader_meta("test_g", grade=True, points=1),
                                outputs=[new_output("stream", name="stdout", text="all good\n")])
    plain_error = new_code_cell("1 / 0", outputs=[new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["long", "traceback"])])
    markdown = new_markdown_cell("### BEGIN HIDDEN TESTS\nnot a test cell\n### END HIDDEN TESTS")
    answer = new_markdown_cell("My answer", metadata=nbgrader_meta("q1", grade=True, solution=True, points=2))
    return new_notebook(cells=[solution, failed_test, passed_test, plain_error, markdown, answer])


def test_is_test_cell():
    cells = autograded_notebook().cells
    assert [is_test_cell(c) for c in cells] == [False, True, True, False, False, False]


def test_hidden_regions_are_removed_from_test_cells():
    nb, _ = HideHiddenTests().preprocess(autograded_notebook(), {})
    failed, passed = nb.cells[1], nb.cells[2]
    assert failed.source == "\n".join(['assert f(2) == 4, "f(2) should be 4."', HIDDEN_NOTE,
                                       'print("visible tail")'])
    assert passed.source == "\n".join(["assert True", HIDDEN_NOTE])
    for cell in (failed, passed):
        assert "HIDDEN TESTS" not in cell.source and "f(123456)" not in cell.source


def test_tracebacks_of_test_cells_become_name_and_message():
    nb, _ = HideHiddenTests().preprocess(autograded_notebook(), {})
    stream, error = nb.cells[1].outputs
    assert error.traceback == ["AssertionError: f should square big numbers too."]
    assert (error.ename, error.evalue) == ("AssertionError", "f should square big numbers too.")
    assert stream.text == "before\n"
    assert nb.cells[2].outputs[0].text == "all good\n"


def test_other_cells_are_left_alone():
    original = autograded_notebook()
    nb, _ = HideHiddenTests().preprocess(copy.deepcopy(original), {})
    for index in (0, 3, 4, 5):
        assert nb.cells[index] == original.cells[index]
    assert nb.cells[3].outputs[0].traceback == ["long", "traceback"]


def test_result_is_a_valid_notebook():
    nb, _ = HideHiddenTests().preprocess(autograded_notebook(), {})
    assert nbformat.validator.isvalid(nb)


def test_enabled_by_default_and_can_be_disabled():
    assert HideHiddenTests().enabled is True
    nb, _ = HideHiddenTests()(autograded_notebook(), {})
    assert "f(123456)" not in nb.cells[1].source
    config = Config()
    config.HideHiddenTests.enabled = False
    nb, _ = HideHiddenTests(config=config)(autograded_notebook(), {})
    assert "f(123456)" in nb.cells[1].source


def test_registered_for_feedback_in_course_config():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert HideHiddenTests in config.GenerateFeedback.preprocessors
