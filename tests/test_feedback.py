"""Feedback a student reads: named tests, pass/fail, points and one-sentence messages; no
test code, test output or hidden test, whatever the student's code prints or raises.

The preprocessors are checked on a synthetic autograded notebook; the whole route (nbgrader
autograde with the course kernel, then generate_feedback with the course's config and
template) runs once on a tiny course whose student code attacks the feedback.
"""

from __future__ import annotations

import html
import re
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config.loader import PyFileConfigLoader

from checks import nbgrader_meta
from conftest import REPO
from course_lib.grading import STAND_IN_MIME
from course_lib.instructor import demo, feedback
from course_lib.instructor.course import CONFIG_FILE
from course_lib.instructor.pipeline import Pipeline

TEST_SOURCE = """\
# Test: squares of small and big numbers
assert f(2) == 4, "f(2) should be 4."
### BEGIN HIDDEN TESTS
_secret = f(123456)
assert _secret == 15241383936, "f should square big numbers too."
### END HIDDEN TESTS
print("visible tail")"""

TRACEBACK = ["\x1b[0;31mAssertionError\x1b[0m   Traceback (most recent call last)",
             "Cell In[3], line 4\n      2 _secret = f(123456)\n----> 4 assert _secret == 15241383936",
             "\x1b[0;31mAssertionError\x1b[0m: f should square big numbers too."]


def autograded_notebook():
    solution = new_code_cell("def f(x):\n    return x * x  # BEGIN HIDDEN TESTS is just text here",
                             metadata=nbgrader_meta("f_impl", solution=True))
    failed_test = new_code_cell(TEST_SOURCE, metadata=nbgrader_meta("test_f", grade=True, points=2),
                                outputs=[new_output("stream", name="stdout", text="before\n"),
                                         new_output("error", ename="AssertionError",
                                                    evalue="f should square big numbers too.",
                                                    traceback=TRACEBACK)])
    passed_test = new_code_cell(
        "assert True\n### BEGIN HIDDEN TESTS\nassert f(3) == 9, 'hidden three'\n### END HIDDEN TESTS",
        metadata=nbgrader_meta("test_g_values", grade=True, points=1),
        outputs=[new_output("stream", name="stdout", text="all good\n"),
                 new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
                 new_output("display_data", data={STAND_IN_MIME: {"part": "the course's f", "reason": "f failed above"},
                                                  "text/plain": "Graded with the course's f because f failed above."})])
    student_error = new_code_cell("# Test: cubes\nassert g(2) == 8, 'g(2) should be 8.'",
                                  metadata=nbgrader_meta("test_cubes", grade=True, points=1),
                                  outputs=[new_output("error", ename="ValueError", evalue="no " * 300 + "\nsecond line",
                                                      traceback=["Traceback", "test source here"])])
    leaking = new_code_cell("x = 1", outputs=[
        new_output("stream", name="stdout", text="I found: assert _secret  ==   15241383936, \"f should square big numbers too.\"\n"),
        new_output("error", ename="ValueError", evalue="_secret = f(123456)", traceback=["_secret = f(123456)"])])
    plain_error = new_code_cell("1 / 0", outputs=[new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["long", "traceback"])])
    answer = new_markdown_cell("My answer", metadata=nbgrader_meta("q1_2", grade=True, solution=True, points=2))
    return new_notebook(cells=[solution, failed_test, passed_test, student_error, leaking, plain_error, answer])


def run(nb):
    nb, resources = feedback.HideHiddenTests().preprocess(nb, {})
    return feedback.TestVerdicts().preprocess(nb, resources)[0]


def test_is_test_cell():
    assert [feedback.is_test_cell(c) for c in autograded_notebook().cells] == \
        [False, True, True, True, False, False, False]


def test_each_graded_cell_is_named_from_its_test_line_or_grade_id():
    nb = run(autograded_notebook())
    titles = [c.metadata.get(feedback.META, {}).get("title") for c in nb.cells]
    assert titles == [None, "Squares of small and big numbers", "G values", "Cubes", None, None,
                      "Written answer Q1.2"]


def test_test_cells_keep_only_the_verdict():
    nb = run(autograded_notebook())
    failed, passed, cubes = nb.cells[1:4]
    for cell in (failed, passed, cubes):
        assert cell.source == "" and cell.outputs == []
    assert failed.metadata[feedback.META]["messages"] == ["f should square big numbers too."]
    assert passed.metadata[feedback.META]["messages"] == []
    assert passed.metadata[feedback.META]["notes"] == ["Graded with the course's f because f failed above."]
    message, = cubes.metadata[feedback.META]["messages"]
    assert message.startswith("ValueError: no no") and "second line" not in message
    assert len(message) <= 200 and "\n" not in message


def test_outputs_quoting_hidden_test_code_are_dropped_anywhere():
    nb = run(autograded_notebook())
    leaking = nb.cells[4]
    assert [o.output_type for o in leaking.outputs] == ["stream", "error"]
    assert leaking.outputs[0].text == feedback.WITHHELD + "\n"
    assert leaking.outputs[1].evalue == feedback.WITHHELD
    assert "123456" not in str(leaking.outputs)
    # other cells keep their outputs untouched
    assert nb.cells[5].outputs[0].traceback == ["long", "traceback"]


def test_a_test_message_quoting_hidden_code_is_withheld():
    nb = autograded_notebook()
    nb.cells[1].outputs[1].evalue = "look: _secret = f(123456)"
    message, = run(nb).cells[1].metadata[feedback.META]["messages"]
    assert message == feedback.WITHHELD


def test_hidden_lines_are_long_and_only_in_hidden_regions():
    lines = feedback.hidden_test_lines(autograded_notebook())
    assert "_secret = f(123456)" in lines
    assert "assert f(3) == 9, 'hidden three'" in lines
    assert all(len(line) >= 8 for line in lines)
    assert not any("f(2) == 4" in line for line in lines)


def test_disabled_hide_hidden_tests_leaves_the_source():
    from traitlets.config import Config
    config = Config()
    config.HideHiddenTests.enabled = False
    nb, _ = feedback.HideHiddenTests(config=config)(autograded_notebook(), {})
    assert "f(123456)" in nb.cells[1].source


def test_course_config_renders_feedback_with_the_course_template():
    config = PyFileConfigLoader(CONFIG_FILE, path=str(REPO)).load_config()
    assert config.GenerateFeedback.preprocessors[-2:] == [feedback.HideHiddenTests, feedback.TestVerdicts]
    assert config.GenerateFeedback.HTMLExporter.template_file == feedback.TEMPLATE_FILE
    assert "HTMLExporter" not in config, "the formgrader's pages must keep nbgrader's templates"


# --- the whole route, on a tiny course --------------------------------------------------

HOSTILE_STUDENT = '''\
import inspect, linecache
STASH = []

def square(x):
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION

def cube(x):
    raise ValueError("cube is not written yet " + "!" * 400)

def probe():
    """Reads the calling test cell's source, keeps it and raises it."""
    caller = inspect.currentframe().f_back
    source = "".join(linecache.getlines(caller.f_code.co_filename))
    STASH.append(source)
    raise AssertionError(source)'''

MINI_CELLS = [
    ("markdown", "# Mini lab", {}),
    ("code", HOSTILE_STUDENT, nbgrader_meta("student_code", solution=True)),
    ("code", '# Test: squares of small numbers\nprint("test-output-print")\n'
             'assert square(2) == 4, "square(2) should be 4."', nbgrader_meta("test_square", grade=True, points=2)),
    ("code", "# Test: the grader's own square stands in\nfrom course_lib import grading\n"
             "grading.used_stand_in(\"the course's square\", \"square failed its test above\")",
     nbgrader_meta("test_stand_in", grade=True, points=1)),
    ("code", '# Test: cubes\nassert cube(2) == 8, "cube(2) should be 8."', nbgrader_meta("test_cube", grade=True, points=1)),
    ("code", "# Test: nothing leaks\n### BEGIN HIDDEN TESTS\n_hidden_probe_value = 4242\nprobe()\n"
             "### END HIDDEN TESTS", nbgrader_meta("test_probe", grade=True, points=1)),
    ("code", "print(STASH)", {}),
    ("markdown", "Why square?", {}),
    ("markdown", "Because.", nbgrader_meta("why_square", grade=True, solution=True, points=2)),
]


@pytest.fixture(scope="module")
def mini_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini")
    shutil.copy(REPO / CONFIG_FILE, root / CONFIG_FILE)
    # The student code below reads frames, which the integrity scan sends to review (tested
    # in test_integrity.py); here the feedback's own defences are under test.
    with open(root / CONFIG_FILE, "a") as config:
        config.write("\nc.IntegrityScan.enabled = False\n")
    cells = [(new_code_cell if kind == "code" else new_markdown_cell)(text, metadata=meta)
             for kind, text, meta in MINI_CELLS]
    source = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
    (root / "source" / "mini").mkdir(parents=True)
    nbformat.write(source, root / "source" / "mini" / "mini.ipynb")
    course = Pipeline(root)
    course.generate("mini")
    course.submit("mini", "alice", demo.reference_notebook(source))
    course.autograde("mini", "alice")
    return course


def page_text(path) -> str:
    """The page's visible text on one line (styles and scripts dropped)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", path.read_text(), flags=re.S)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return re.sub(r" ([:,.)])", r"\1", text)


def test_feedback_names_tests_and_shows_only_verdicts(mini_course):
    text = page_text(mini_course.feedback("mini", "alice"))
    summary = text[:text.index("Mini lab")]
    for title in ("Squares of small numbers: passed, 2 / 2 points",
                  "Cubes: failed, 0 / 1 point",
                  "Nothing leaks: failed, 0 / 1 point",
                  "Written answer Why square: not graded yet (2 points)"):
        assert title in summary, title
    assert "Test passed: Squares of small numbers 2 / 2 points" in text
    assert "Graded with the course's square because square failed its test above." in text
    cube = re.search(r"ValueError: cube is not written yet !+…", text)
    assert cube and len(cube.group()) <= 200
    assert "Your answer Not graded yet (2 points)" in text and "Score: 0.0 / 2.0" not in text
    assert "test-output-print" not in text and "square(2) == 4" not in text
    assert "Under review" not in text


def test_feedback_never_shows_hidden_test_code(mini_course):
    path = mini_course.feedback("mini", "alice")
    raw = path.read_text()
    for secret in ("_hidden_probe_value", "4242", "HIDDEN TESTS", "probe()\n"):
        assert secret not in raw, secret
    assert feedback.WITHHELD in page_text(path)


def test_feedback_of_a_submission_under_review_says_so(mini_course):
    path = mini_course.notebook("autograded", "mini", "alice")
    nb = nbformat.read(path, as_version=4)
    nb.metadata["course"] = {"integrity": {"review": [{"cell": "student_code", "reason": "reads frames"}],
                                           "notes": []}}
    nbformat.write(nb, path)
    text = page_text(mini_course.feedback("mini", "alice"))
    assert text.index("Under review.") < text.index("Squares of small numbers")
    assert "autograded points are withheld" in text
    assert "reads frames" not in text and "student_code" not in text
    assert "Squares of small numbers: withheld for review, 2 / 2 points" in text
