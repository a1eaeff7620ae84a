"""Peer review: the PDFs a reviewer reads (real Chromium, real kernel run), who reviews whom,
and the folders handed out.

Screenshots of a PDF's first page and of a page with a figure are saved to
``test-artifacts/peer_review/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import subprocess
from collections import Counter

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from pypdf import PdfReader

from checks import nbgrader_meta
from conftest import REPO
from course_lib.instructor import chromium, cli, demo, peer_review
from course_lib.instructor.course import CONFIG_FILE

ARTIFACTS = REPO / "test-artifacts" / "peer_review"
needs_chromium = pytest.mark.skipif(
    not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
    reason="needs Chromium")

LONG_LINE = ('print(f"Keras {keras_version} | MNIST variant: {VARIANT} | run mode: {mode} | '
             'seed: {SEED} | batch size: {BATCH_SIZE} | epochs: {EPOCHS} | learning rate: {LR}")')
TOKEN_LINE = "x = '" + "abcdefghij" * 14 + "'"

STUDENT_CODE = f'''\
import matplotlib.pyplot as plt
keras_version, VARIANT, mode, SEED, BATCH_SIZE, EPOCHS, LR = "3.x", "lite", "grading", 42, 128, 3, 0.001
{LONG_LINE}
{TOKEN_LINE}
results = {{"adam": 0.981, "sgd": 0.912, "rmsprop": 0.975}}  # accuracy per optimizer, one seed each, same budget
for name, accuracy in sorted(results.items(), key=lambda item: -item[1]):
    print(f"{{name:>8}}: {{accuracy:.3f}}")

def square(x):
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION'''

PLOT_CODE = '''\
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(list(results), list(results.values()), color="#1f5fa8")
ax.set_title("Test accuracy per optimizer")
ax.set_xlabel("optimizer")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.85, 1.0)
plt.show()'''


def lab_notebook():
    """A small assignment: code with long lines, a figure, a test, two written answers, one
    of them asked as a peer-review question."""
    return new_notebook(cells=[
        new_markdown_cell("# Lab 0 · Optimizers compared\n\nRun every cell, then answer the questions."),
        new_code_cell(STUDENT_CODE, metadata=nbgrader_meta("student_code", solution=True)),
        new_code_cell("assert square(3) == 9, 'secretvisibletest'",
                      metadata=nbgrader_meta("test_square", grade=True, points=1)),
        new_code_cell(PLOT_CODE),
        new_markdown_cell("**Q1 (optimizers).** Which optimizer would you pick, and what evidence "
                          "from your plot supports it?", metadata={"tags": [peer_review.PEER_REVIEW_TAG]}),
        new_markdown_cell("Adam: myansweristhis, it reached 0.981, the highest bar in the plot.",
                          metadata=nbgrader_meta("q1", True, True, 2)),
        new_markdown_cell("**Q2.** What would you try next?"),
        new_markdown_cell("More seeds.", metadata=nbgrader_meta("q2", True, True, 1)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """The student's notebook after Run All in the course kernel, as handed in."""
    nb = demo.run_as_student(demo.reference_notebook(lab_notebook()), timeout=120)
    path = tmp_path_factory.mktemp("submitted") / "lab0.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def pdf(submitted, tmp_path_factory):
    if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("needs Chromium")
    questions = peer_review.review_questions(lab_notebook())
    target = tmp_path_factory.mktemp("pdf") / "abc123.pdf"
    return peer_review.notebook_to_pdf(submitted, target, assignment="lab0", code="abc123",
                                       questions=questions)


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- questions and the review copy -------------------------------------------------------

def test_review_questions_come_from_tagged_cells():
    questions = peer_review.review_questions(lab_notebook())
    assert questions == [peer_review.Question(
        "Q1 (optimizers)", "**Q1 (optimizers).** Which optimizer would you pick, and what evidence "
                           "from your plot supports it?")]


def test_without_tags_the_written_answer_prompts_are_the_questions():
    nb = lab_notebook()
    nb.cells[4].metadata["tags"] = []
    labels = [q.label for q in peer_review.review_questions(nb)]
    assert labels == ["Q1 (optimizers)", "Q2"]


def test_every_source_notebook_tags_its_peer_review_questions():
    for path in sorted((REPO / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if peer_review.PEER_REVIEW_TAG in c.metadata.get("tags", [])]
        assert 2 <= len(tagged) <= 6, f"{path.name}: {len(tagged)} peer-review questions"
        assert all(c.cell_type == "markdown" for c in tagged)


def test_review_html_drops_tests_frames_answers_and_starts_with_the_cover(submitted):
    nb = peer_review.review_notebook(nbformat.read(submitted, as_version=4), "lab0", "abc123",
                                     peer_review.review_questions(lab_notebook()))
    html = peer_review.review_html(nb)
    assert "secretvisibletest" not in html
    assert len(re.findall(r'class="[^"]*celltag_written-answer', html)) == 2
    assert re.search(r'class="[^"]*celltag_review-cover', html).start() < html.index("Optimizers compared")
    assert "review_abc123.md" in html and "Which optimizer would you pick" in html
    assert "Content-Security-Policy" in html[:html.index("</head>")]
    assert nbformat.read(submitted, as_version=4).cells[2].source.endswith("'secretvisibletest'"), \
        "the submitted file must not be changed"


# --- the PDF -----------------------------------------------------------------------------

@needs_chromium
def test_every_code_line_can_be_read_back_from_the_pdf(submitted, pdf):
    text = squashed("".join(page.extract_text() for page in PdfReader(pdf).pages))
    nb = nbformat.read(submitted, as_version=4)
    lines = [line for cell in nb.cells if cell.cell_type == "code" and not peer_review.is_test_cell(cell)
             for line in cell.source.splitlines() if line.strip()]
    assert LONG_LINE in lines and TOKEN_LINE in lines
    missing = [line for line in lines if squashed(line) not in text]
    assert missing == []
    assert "secretvisibletest" not in text


@needs_chromium
def test_pdf_holds_cover_results_figure_and_answers(pdf):
    pages = PdfReader(pdf).pages
    first = " ".join(pages[0].extract_text().split())
    assert "lab0: peer review" in first and "abc123" in first
    assert "How to review" in first and "Which optimizer would you pick" in first
    assert "Optimizers compared" not in first, "the cover is a page of its own"
    rest = " ".join(" ".join(p.extract_text().split()) for p in pages[1:])
    assert "adam: 0.981" in rest and "myansweristhis" in rest and "written answer" in rest.lower()
    assert any(page.images for page in pages[1:]), "the figure should be in the PDF"
    assert pdf.stat().st_size < 5_000_000


@needs_chromium
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_screenshots_of_the_cover_and_a_figure_page(pdf):
    """For a person to look at: test-artifacts/peer_review/cover-1.png and figure-N.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figure_page = next(n for n, page in enumerate(PdfReader(pdf).pages, 1) if page.images)
    shots = []
    for name, page in (("cover", 1), ("figure", figure_page)):
        prefix = ARTIFACTS / name
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(prefix)], check=True)
        shots.append(prefix.with_suffix(".png"))
    for shot in shots:
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


# --- who reviews whom ----------------------------------------------------------------------

STUDENTS = [f"student{n:02d}" for n in range(7)]


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_allocation_is_fair(k):
    pairs = peer_review.allocate(STUDENTS, k, seed=3)
    assert all(reviewer != author for reviewer, author in pairs)
    assert len(set(pairs)) == len(pairs), "nobody reviews the same work twice"
    assert Counter(r for r, _ in pairs) == {s: k for s in STUDENTS}
    assert Counter(a for _, a in pairs) == {s: k for s in STUDENTS}


def test_allocation_is_deterministic_per_seed():
    assert peer_review.allocate(STUDENTS, 2, seed=5) == peer_review.allocate(list(reversed(STUDENTS)), 2, seed=5)
    assert peer_review.allocate(STUDENTS, 2, seed=5) != peer_review.allocate(STUDENTS, 2, seed=6)


@pytest.mark.parametrize("k, message", [(0, "at least one reviewer"), (7, "at most 6 reviewers")])
def test_allocation_rejects_impossible_requests(k, message):
    with pytest.raises(ValueError, match=message):
        peer_review.allocate(STUDENTS, k)


@needs_chromium
def test_course_peer_review_command_hands_out_folders(tmp_path, submitted, capsys):
    """``course peer-review ID --reviewers 2`` on a course with four submissions."""
    shutil.copy(REPO / CONFIG_FILE, tmp_path / CONFIG_FILE)
    (tmp_path / "release" / "lab0").mkdir(parents=True)
    nbformat.write(lab_notebook(), tmp_path / "release" / "lab0" / "lab0.ipynb")
    students = ["ana", "ben", "cleo", "dev"]
    for student in students:
        (tmp_path / "submitted" / student / "lab0").mkdir(parents=True)
        shutil.copy(submitted, tmp_path / "submitted" / student / "lab0" / "lab0.ipynb")

    assert cli.main(["peer-review", "lab0", "--reviewers", "2", "--seed", "1", "--root", str(tmp_path)]) == 0
    folder = tmp_path / "peer_review" / "lab0"
    key = {row["student"]: row["code"] for row in csv.DictReader((folder / "key.csv").open())}
    allocation = [(row["reviewer"], row["code"]) for row in csv.DictReader((folder / "allocation.csv").open())]
    assert sorted(key) == students and len(set(key.values())) == 4
    assert all(code not in student for student, code in key.items())
    assert all(key[reviewer] != code for reviewer, code in allocation)
    assert Counter(code for _, code in allocation) == {code: 2 for code in key.values()}
    for student in students:
        handed = sorted(p.name for p in (folder / "reviewers" / student).iterdir())
        codes = sorted(code for reviewer, code in allocation if reviewer == student)
        assert handed == sorted([f"{c}.pdf" for c in codes] + [f"review_{c}.md" for c in codes])
        form = (folder / "reviewers" / student / f"review_{codes[0]}.md").read_text()
        assert codes[0] in form and "Which optimizer would you pick" in form and "Score (1-4)" in form
    assert not list((folder / "reviewers").rglob("key.csv"))
    assert "key.csv" in capsys.readouterr().out

    # Made again (e.g. after a late submission): the same codes, the same allocation.
    assert cli.main(["peer-review", "lab0", "--reviewers", "2", "--seed", "1", "--root", str(tmp_path)]) == 0
    assert {row["student"]: row["code"] for row in csv.DictReader((folder / "key.csv").open())} == key
    again = [(row["reviewer"], row["code"]) for row in csv.DictReader((folder / "allocation.csv").open())]
    assert again == allocation


# --- Chromium --------------------------------------------------------------------------------

def fake_bin(tmp_path, script=None):
    folder = tmp_path / "bin"
    folder.mkdir()
    if script is not None:
        exe = folder / "chromium"
        exe.write_text(script)
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return folder


def test_find_chromium_without_chromium(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(fake_bin(tmp_path)))
    with pytest.raises(FileNotFoundError) as error:
        chromium.find_chromium()
    assert "No Chromium found" in str(error.value)
    assert "apt-get install -y chromium" in str(error.value)


def test_find_chromium_uses_path(tmp_path, monkeypatch):
    folder = fake_bin(tmp_path, "#!/bin/sh\nexit 0\n")
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(folder))
    assert chromium.find_chromium() == str(folder / "chromium")


def test_html_to_pdf_reports_a_failed_print(tmp_path, monkeypatch):
    folder = fake_bin(tmp_path, "#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + "/usr/bin:/bin")
    with pytest.raises(RuntimeError, match=r"Chromium made no PDF \(exit 3\): cannot open display"):
        peer_review.html_to_pdf("<p>hi</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
