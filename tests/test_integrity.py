"""The integrity scan and the restored grading metadata: what a hostile student might write
is flagged (and its points withheld), what a course student writes never is, and a
submission whose test cells were deleted or re-labelled is graded as released."""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import REPO
from course_lib.instructor import demo, integrity
from course_lib.instructor.course import Course
from course_lib.instructor.pipeline import Pipeline
from tiny_course import ASSIGNMENT, make_course, reference

REVIEW_CASES = {
    "a hook on the shell": "ip = get_ipython()\nip.set_custom_exc((Exception,), lambda *a, **k: None)",
    "a magic that hides output": "%%capture\nprint('hidden')",
    "sys.modules": "import sys\nsys.modules['course_lib.grading'].expect = lambda *a: None",
    "a patched grading helper": "from course_lib import grading\ngrading.expect = lambda c, m: None",
    "frames via inspect": "import inspect\ndef f():\n    return inspect.stack()[1]",
    "frames via sys": "import sys\ndef f():\n    return sys._getframe(1).f_globals",
    "the input history": "print(In[3])",
    "exec of a built string": "exec('x' + '=1')",
    "an object equal to anything": "class Any:\n    def __eq__(self, other):\n        return True",
    "builtins": "import builtins\nbuiltins.print = None",
    "the grader's environment": "import os\nGRADING = os.environ.get('NBGRADER_EXECUTION')",
    "the import system": "import importlib\nimportlib.reload(np)",
    "a replaced dunder": "AssertionError.__init__ = lambda self, *a: None",
    "the grader's reference solution": "from course_lib.torch_function_grading import reference_train_epoch\n"
                                       "train_epoch = reference_train_epoch",
    "the grader's checks": "from course_lib import grading",
}
NOTE_CASES = {
    "a subprocess": "import subprocess\nsubprocess.run(['ls'])",
    "a socket": "import socket\nsocket.create_connection(('10.0.0.1', 80))",
    "a file outside the work folder": "open('/etc/passwd').read()",
    "a shell line": "!ls /",
    "a built attribute name": "f = getattr(obj, ''.join(['ex', 'ec']))",
    "leaving the kernel": "raise SystemExit",
}
ORDINARY = [
    "%matplotlib inline\nimport numpy as np",
    "opt = getattr(keras.optimizers, name)(learning_rate=lr)",
    "import torch\ntorch.backends.cudnn.deterministic = True",
    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "    def forward(self, x):\n        return x\n    def __len__(self):\n        return 1",
    "print(type(model).__name__, model.__class__.__name__)",
    "with open('results.json', 'w') as f:\n    f.write('{}')",
    "from course_lib import data, plots, budget, seeding, torch_data",
    "import os\nos.makedirs('figures', exist_ok=True)",
    "x = 5 %\n",  # does not parse: left to fail when it runs
]


@pytest.mark.parametrize("name", REVIEW_CASES)
def test_code_that_can_change_a_grade_is_sent_to_review(name):
    tiers = {tier for _, tier, _ in integrity.scan_source(REVIEW_CASES[name])}
    assert integrity.REVIEW in tiers, f"{name} should be flagged for review"


@pytest.mark.parametrize("name", NOTE_CASES)
def test_code_the_sandbox_contains_is_a_note(name):
    tiers = {tier for _, tier, _ in integrity.scan_source(NOTE_CASES[name])}
    assert tiers == {integrity.NOTE}, f"{name} should be a note only, got {tiers}"


@pytest.mark.parametrize("code", ORDINARY)
def test_ordinary_course_code_is_never_flagged(code):
    assert integrity.scan_source(code) == []


@pytest.mark.parametrize("assignment", Course(REPO).assignments())
def test_every_demo_submission_passes_clean(assignment):
    for student, nb in demo.demo_notebooks(REPO, assignment).items():
        assert integrity.scan_notebook(nb) == [], f"{assignment}/{student} was flagged"


def test_locked_cells_are_not_scanned():
    nb = reference()
    locked = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("locked")]
    locked[0].source = "exec('1')"  # nbgrader restores locked cells before anything runs
    assert integrity.scan_notebook(nb) == []


# --- in the pipeline: one batch, honest and hostile students ----------------------------

def with_cell(nb, code, before_grade_id=None):
    nb = copy.deepcopy(nb)
    index = next((i for i, c in enumerate(nb.cells)
                  if c.metadata.get("nbgrader", {}).get("grade_id") == before_grade_id), 1)
    nb.cells.insert(index, new_code_cell(code))
    return nb


def wrong_square(nb):
    return demo.wrong_notebook(nb, demo.WrongSubmission("wrong square", [("return x * x", "return x + x")], []))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = Pipeline(make_course(tmp_path_factory.mktemp("integrity")))
    course.generate(ASSIGNMENT)
    release = nbformat.read(course.notebook("release", ASSIGNMENT), as_version=4)
    # Every later cell, the tests included, becomes `pass` before it runs.
    hollow = "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"
    deleted = wrong_square(reference())
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_square"]
    relabelled = wrong_square(reference())
    for cell in relabelled.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_square":
            meta.update(grade=False, points=100)
    students = {"honest": reference(), "hooker": with_cell(release, hollow),
                "deleter": deleted, "relabeller": relabelled, "after": reference()}
    for student, nb in students.items():
        course.submit(ASSIGNMENT, student, nb)
        course.autograde(ASSIGNMENT, student)
    return course


def scores(course, student):
    with course.api.gradebook as gb:
        submission = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: (g.score, g.needs_manual_grade) for g in submission.grades if g.cell.cell_type == "code"}


def test_a_hook_that_hollows_out_the_tests_earns_nothing_and_is_flagged(batch):
    graded = nbformat.read(batch.notebook("autograded", ASSIGNMENT, "hooker"), as_version=4)
    review = integrity.findings_of(graded)["review"]
    assert [entry["reason"] for entry in review] == [integrity.REVIEW_NAMES["get_ipython"]]
    assert scores(batch, "hooker") == {"test_cube": (0.0, True), "test_square": (0.0, True)}
    with batch.api.gradebook as gb:
        auto = {g.name: g.auto_score for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "hooker").grades
                if g.cell.cell_type == "code"}
    # The blank release plus the hook would have earned every point: no test ran. The instructor still sees that, and decides.
    assert auto == {"test_cube": 1.0, "test_square": 2.0}


def test_honest_students_in_the_same_batch_are_unaffected(batch):
    for student in ("honest", "after"):
        assert scores(batch, student) == {"test_cube": (1.0, False), "test_square": (2.0, False)}
        graded = nbformat.read(batch.notebook("autograded", ASSIGNMENT, student), as_version=4)
        assert not integrity.under_review(graded)


def test_a_deleted_test_cell_is_restored_and_graded(batch):
    graded = nbformat.read(batch.notebook("autograded", ASSIGNMENT, "deleter"), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in graded.cells]
    assert "test_square" in ids
    assert scores(batch, "deleter") == {"test_cube": (1.0, False), "test_square": (0.0, False)}


def test_a_relabelled_test_cell_is_graded_as_released(batch):
    graded = nbformat.read(batch.notebook("autograded", ASSIGNMENT, "relabeller"), as_version=4)
    meta = next(c.metadata.nbgrader for c in graded.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_square")
    assert meta["grade"] is True and meta["points"] == 2
    assert scores(batch, "relabeller") == {"test_cube": (1.0, False), "test_square": (0.0, False)}


def test_the_instructors_summary_names_the_cell_and_the_reason(batch, capsys):
    from course_lib.instructor.pipeline import print_summary, summarise

    rows = [summarise(batch, ASSIGNMENT, student, 1.0) for student in ("honest", "hooker")]
    assert rows[0].review == () and rows[0].score == 3
    assert rows[1].score == 0 and len(rows[1].review) == 1
    print_summary(rows)
    out = capsys.readouterr().out
    assert "REVIEW (points withheld)" in out
    assert f"review {ASSIGNMENT} / hooker: " in out and "uses the IPython shell" in out
