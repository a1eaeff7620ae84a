"""``course quality`` on a tiny, framework-free course with planted grader faults (a mutant
the tests miss, a mistake that cascades, a correct variant that loses points), and the
format of every assignment's mutants and correct variants."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import REPO
from course_lib.instructor import cli, demo, quality
from course_lib.instructor.course import Course, copy_course, notebook_path
from course_lib.seeding import SEED_VARIABLE
from test_pipeline import ASSIGNMENT, make_course

MUTANTS = [
    {"name": "adds", "description": "square adds instead of multiplying",
     "replace": [["return x * x", "return x + x"]], "loses": ["test_square"], "one_mistake": True},
    {"name": "planted_miss", "description": "a harmless comment the tests cannot catch",
     "replace": [["return x ** 3", "return x ** 3  # harmless"]], "loses": ["test_cube"],
     "one_mistake": True},
    {"name": "planted_cascade", "description": "lists test_square only, but breaks cube too",
     "replace": [["return x * x", "return x + x"], ["return x ** 3", "return x"]],
     "loses": ["test_square"], "one_mistake": True},
]
VARIANTS = [
    {"name": "cube_by_multiplying", "description": "x * x * x", "replace": [["return x ** 3", "return x * x * x"]]},
    {"name": "planted_wrong_variant", "description": "not correct after all",
     "replace": [["return x ** 3", "return x ** 2"]]},
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The quality run of the tiny course, keeping its scratch course to look into."""
    root = make_course(tmp_path_factory.mktemp("course"))
    source = nbformat.read(root / notebook_path("source", ASSIGNMENT), as_version=4)
    source.cells.insert(1, new_code_cell("from course_lib import seeding\n"
                                         "SEED = seeding.seed_everything(42)\nprint('seed', SEED)"))
    nbformat.write(source, root / notebook_path("source", ASSIGNMENT))
    (root / "demo" / ASSIGNMENT / quality.MUTANTS_FILE).write_text(json.dumps({"mutants": MUTANTS}))
    (root / "demo" / ASSIGNMENT / quality.VARIANTS_FILE).write_text(json.dumps({"variants": VARIANTS}))
    scratch = tmp_path_factory.mktemp("scratch") / "course"
    return root, scratch, cli.main(["quality", ASSIGNMENT, "--seeds", "2", "--root", str(root),
                                    "--scratch", str(scratch)])


def row(root, name: str, assignment: str = ASSIGNMENT) -> list[str]:
    """The cells of the report's table row for ``name``."""
    for line in (root / "quality" / f"{assignment}.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[1] == name:
            return cells
    raise AssertionError(f"no row {name!r}")


def test_planted_faults_fail_the_run(graded):
    assert graded[2] == 1


def test_reference_gets_full_marks_under_each_seed(graded):
    root, scratch, _ = graded
    assert row(root, "reference (notebook's seed)")[2:5] == ["0 / 3", "-", "full marks"]
    assert row(root, "reference (seed 1)")[2:5] == ["0 / 3", "-", "full marks"]
    printed = {}
    for student in ("reference-0", "reference-1"):
        nb = nbformat.read(scratch / notebook_path("autograded", ASSIGNMENT, student), as_version=4)
        printed[student] = nb.cells[1].outputs[0].text.strip()
    assert printed == {"reference-0": "seed 42", "reference-1": "seed 1"}, \
        f"{SEED_VARIABLE} should reach the notebook's kernel in grading"


def test_blank_gets_zero(graded):
    assert row(graded[0], "blank release")[2:5] == ["3 / 3", "every test cell", "0 points"]


def test_caught_mistake_costs_its_own_cell(graded):
    assert row(graded[0], "adds (one mistake)")[2:5] == ["2 / 3", "test_square", "caught, no cascade"]


def test_missed_mistake_is_reported(graded):
    assert row(graded[0], "planted_miss (one mistake)")[2:5] == ["0 / 3", "-", "MISSED (test_cube), no cascade"]


def test_cascade_is_reported(graded):
    assert row(graded[0], "planted_cascade (one mistake)")[2:5] == [
        "3 / 3", "every test cell", "caught, CASCADE (test_cube)"]


def test_variants_must_earn_every_point(graded):
    root = graded[0]
    assert row(root, "cube_by_multiplying")[2:5] == ["0 / 3", "-", "full marks"]
    assert row(root, "planted_wrong_variant")[2:5] == ["1 / 3", "test_cube", "SHORT of full marks"]


def test_report_says_what_failed(graded):
    text = (graded[0] / "quality" / f"{ASSIGNMENT}.md").read_text()
    assert f"**{ASSIGNMENT}: reference full marks in 2 of 2 seeds; blank 0 points; mutants caught 2 of 3, " \
           f"cascades 1; correct variants full marks 1 of 2; FAILED (" in text
    assert "- **planted_miss**: a harmless comment the tests cannot catch" in text


def test_a_bad_mutants_file_is_a_clear_error(tmp_path, capsys):
    root = make_course(tmp_path)
    assert cli.main(["quality", ASSIGNMENT, "--root", str(root)]) == 1
    assert "mutants.json is missing" in capsys.readouterr().err
    (root / "demo" / ASSIGNMENT / quality.MUTANTS_FILE).write_text(json.dumps({"mutants": [
        {**MUTANTS[0], "loses": ["test_square", "test_cube"]}]}))
    assert cli.main(["quality", ASSIGNMENT, "--root", str(root)]) == 1
    assert "is one_mistake, so it must list exactly one cell" in capsys.readouterr().err


# --- every assignment's mutants and variants -------------------------------------------

ASSIGNMENTS = Course(REPO).assignments()


def test_every_assignment_has_mutants_and_correct_variants():
    for assignment in ASSIGNMENTS:
        for name in (quality.MUTANTS_FILE, quality.VARIANTS_FILE):
            assert (REPO / "demo" / assignment / name).is_file(), f"demo/{assignment}/{name} is missing"


def autograded_cells(source_nb) -> set[str]:
    return {c.metadata["nbgrader"]["grade_id"] for c in source_nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mutants_cover_the_assignment_and_apply(assignment):
    """At least 8 mutants, 2 of them one-mistake cases; each edit applies to the reference
    and names real autograded cells; each variant applies too."""
    source = nbformat.read(REPO / notebook_path("source", assignment), as_version=4)
    reference = demo.reference_notebook(source)
    mutants = quality.load_mutants(REPO / "demo" / assignment / quality.MUTANTS_FILE)
    assert len(mutants) >= 8 and sum(m.one_mistake for m in mutants) >= 2
    cells = autograded_cells(source)
    for mutant in mutants:
        assert set(mutant.loses) <= cells, f"{mutant.name} names cells that are not autograded tests"
        assert mutant.notebook(reference) != reference
    for variant in quality.load_variants(REPO / "demo" / assignment / quality.VARIANTS_FILE):
        assert variant.notebook(reference) != reference


# --- the NumPy-only assignment, every mutant; a sample of the others (full reports: README) ---

@pytest.mark.lifecycle
def test_training_diagnostics_grader_catches_each_mistake_once(tmp_path, capsys):
    assignment = "training_diagnostics"
    root = copy_course(REPO, tmp_path / "course", [assignment]).root
    assert cli.main(["quality", assignment, "--seeds", "2", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    mutants = quality.load_mutants(root / "demo" / assignment / quality.MUTANTS_FILE)
    variants = quality.load_variants(root / "demo" / assignment / quality.VARIANTS_FILE)
    for mutant in mutants:
        cells = row(root, mutant.name + (" (one mistake)" if mutant.one_mistake else ""), assignment)
        assert cells[3:5] == [", ".join(mutant.loses), "caught, no cascade"], mutant.name
    for variant in variants:
        assert row(root, variant.name, assignment)[4] == "full marks", variant.name
    assert row(root, "reference (seed 1)", assignment)[2:5] == ["0 / 23", "-", "full marks"]
    assert row(root, "blank release", assignment)[2:5] == ["23 / 23", "every test cell", "0 points"]
    assert (f"{assignment}: reference full marks in 2 of 2 seeds; blank 0 points; mutants caught "
            f"{len(mutants)} of {len(mutants)}, cascades 0; correct variants full marks "
            f"{len(variants)} of {len(variants)}; OK (") in out


#: One mistake or correct variant per framework assignment, each a case the issue that
#: asked for fair grading named (one broken line must cost one cell; an input_shape= model
#: or another correct design earns every point). Their reference and blank release are
#: graded by the lifecycle tests; every mutant is graded by `course quality` (README).
SAMPLE = {
    "lab7_cnn_mnist": "confusion_transposed",
    "e1_e2_pytorch_cnn": "train_epoch_unpacks_a_pair",
    "pa4_training_dynamics": "lab7_style",
    "param_budget_cnn": "original-project-ported",
}


@pytest.mark.lifecycle
@pytest.mark.parametrize("assignment", sorted(SAMPLE))
def test_a_sample_of_each_framework_assignment(tmp_path, assignment):
    root = copy_course(REPO, tmp_path / "course", [assignment]).root
    report = quality.run_quality(root, assignment, only=[SAMPLE[assignment]], baseline=False)
    assert len(report.outcomes) == 1
    outcome = report.outcomes[0]
    assert outcome.ok, f"{SAMPLE[assignment]}: {outcome.verdict}; lost {outcome.lost}"
    assert report.summary().startswith(f"{assignment}: mutants caught"), "no reference or blank graded"
