"""Peer review: anonymous PDFs of submitted notebooks, who reviews whom, and review forms.

A PDF is made from the notebook the student submitted (never the autograded copy, which
holds the hidden tests): test cells are dropped, written answers are framed, code and
printed results wrap instead of running off the page, and a first page gives the
assignment, the anonymous code and a short guide built from the assignment's own
peer-review questions. nbconvert renders it to HTML (student output is untrusted:
no script runs, nothing loads) and a headless Chromium prints it (Debian's package; no LaTeX).

An assignment marks its peer-review questions with the cell tag ``peer-review`` on the
markdown cells that ask them (read from the instructor's release, not from a student's
copy); without tags, the prompts of the graded written answers are used.
"""

from __future__ import annotations

import copy
import csv
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell
from traitlets.config import Config

from .chromium import PRINT_FLAGS, find_chromium
from .feedback import is_test_cell

#: The cell tag that marks a markdown cell asking one of the assignment's peer-review questions.
PEER_REVIEW_TAG = "peer-review"
#: Tags the PDF gives cells (in its own copy) so the stylesheet can frame them.
ANSWER_TAG = "written-answer"
COVER_TAG = "review-cover"

CSP = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
       'img-src data:; style-src \'unsafe-inline\'; font-src data:">')
STYLE = """
<style>
@page { size: A4; margin: 14mm 12mm 14mm 12mm; }
body { font-size: 10.5pt; }
/* Code and printed results wrap at the margin: no text is lost. */
.jp-InputArea-editor pre, .highlight pre, .jp-OutputArea-output pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: normal;
  font-size: 8.6pt; line-height: 1.35;
}
.jp-InputArea-editor, .highlight { overflow: visible !important; }
.highlight pre > span[id^="codeline-"] { display: block; padding-left: 3em; text-indent: -3em; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
.jp-Cell { break-inside: auto; padding: 2px 0; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
.jp-OutputArea-output { break-inside: avoid; }
/* Written answers stand out. */
.celltag_written-answer {
  border: 1px solid #1f5fa8; border-left: 6px solid #1f5fa8; background: #eef4fc;
  padding: 6px 10px 4px 10px !important; margin: 6px 0; border-radius: 3px; break-inside: avoid;
}
.celltag_written-answer::before {
  content: "Written answer"; display: block; font-weight: bold; color: #1f5fa8;
  font-size: 9pt; text-transform: uppercase; letter-spacing: 0.05em; margin-bottom: 2px;
}
/* The first page: assignment, code, reviewer's guide. */
.celltag_review-cover { break-after: page; }
.celltag_review-cover h1 { font-size: 20pt; margin-top: 0; }
.celltag_review-cover code { font-size: 13pt; background: #f2f2f2; padding: 1px 6px; }
.celltag_review-cover li { margin: 0.35em 0; }
</style>
"""


@dataclass(frozen=True)
class Question:
    """One peer-review question: a short label and its full text (markdown)."""

    label: str
    text: str


def _question(markdown: str, number: int) -> Question:
    lines = markdown.strip().splitlines()
    headings = [line.lstrip("#").strip() for line in lines if line.lstrip().startswith("#")]
    text = " ".join(" ".join(line for line in lines if not line.lstrip().startswith("#")).split())
    bold = re.match(r"\*\*(.+?)\*\*", text)
    label = (bold.group(1).strip().rstrip(".:") if bold else headings[-1] if headings
             else f"Question {number}")
    return Question(label, text)


def review_questions(release_nb) -> list[Question]:
    """The assignment's peer-review questions, in notebook order: markdown cells tagged
    ``peer-review``; without any, the prompt cell before each graded written answer."""
    cells = release_nb.cells
    tagged = [c.source for c in cells
              if c.cell_type == "markdown" and PEER_REVIEW_TAG in c.metadata.get("tags", [])]
    if not tagged:
        tagged = [cells[i - 1].source for i, c in enumerate(cells)
                  if i > 0 and _is_written_answer(c) and cells[i - 1].cell_type == "markdown"]
    return [_question(text, n) for n, text in enumerate(tagged, 1)]


def _is_written_answer(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "markdown" and meta.get("solution", False)


def cover_markdown(assignment: str, code: str, questions: list[Question]) -> str:
    """The PDF's first page: what this is, the anonymous code and the reviewer's guide."""
    asked = "\n".join(f"{n}. {q.text}" for n, q in enumerate(questions, 1))
    return f"""# {assignment}: peer review

Anonymous code: `{code}`

This is a classmate's notebook as they submitted it, printed without the grader's tests.
Written answers are framed in blue.

## How to review

- Read the whole notebook first: the code, the printed results, the figures and the
  written answers.
- Then fill in your review form (`review_{code}.md`): for each question below, say what
  convinces you, what is unclear or missing, and one concrete suggestion. Point to the
  cell, number or figure you mean.
- Judge the reasoning and the evidence, not the style. Be specific and kind, and do not try
  to find out who wrote it.

## The questions the author answered

{asked or "(This assignment lists no peer-review questions: comment on the written answers.)"}
"""


def review_notebook(submitted_nb, assignment: str, code: str, questions: list[Question]):
    """A copy of the submission for reviewers: the cover first, test cells dropped, written
    answers tagged for the frame."""
    nb = copy.deepcopy(submitted_nb)
    nb.cells = [cell for cell in nb.cells if not is_test_cell(cell)]
    for cell in nb.cells:
        if _is_written_answer(cell):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), ANSWER_TAG]
    cover = new_markdown_cell(cover_markdown(assignment, code, questions), metadata={"tags": [COVER_TAG]})
    nb.cells.insert(0, cover)
    nb.metadata["title"] = f"{assignment}: peer review copy {code}"
    return nb


def review_html(nb) -> str:
    """The review copy as one self-contained HTML page. Student output is untrusted: the
    page's Content-Security-Policy lets the printing browser run no script and load nothing
    (images only from the page itself)."""
    # Pygments puts each code line in a span of its own: a wrapped line gets a hanging indent.
    config = Config({"Highlight2HTML": {"extra_formatter_options": {"linespans": "codeline"}}})
    exporter = HTMLExporter(config=config, template_name="lab", exclude_input_prompt=True,
                            exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(nb)
    head = html.index("<head>") + len("<head>")
    return html[:head] + CSP + html[head:].replace("</head>", STYLE + "</head>", 1)


def html_to_pdf(html: str, pdf_path: Path, timeout: float = 180) -> Path:
    """Print HTML to PDF with headless Chromium."""
    pdf_path = Path(pdf_path).resolve()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        command = [find_chromium(), *PRINT_FLAGS, f"--user-data-dir={tmp}/profile",
                   f"--print-to-pdf={pdf_path}", page.as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium made no PDF (exit {done.returncode}): {done.stderr[-2000:]}")
    return pdf_path


def notebook_to_pdf(notebook_path: Path, pdf_path: Path, assignment: str, code: str,
                    questions: list[Question]) -> Path:
    """The anonymous review PDF of one submitted notebook."""
    submitted = nbformat.read(Path(notebook_path), as_version=4)
    return html_to_pdf(review_html(review_notebook(submitted, assignment, code, questions)), pdf_path)


# --- who reviews whom --------------------------------------------------------------------

def allocate(students: list[str], reviewers: int, seed: int = 0) -> list[tuple[str, str]]:
    """(reviewer, author) pairs: every student reviews ``reviewers`` others and is reviewed
    by as many, never themselves, never the same work twice. A seeded shuffle puts the
    students in a circle and each reviews the next ``reviewers`` of it, so the same seed
    gives the same allocation."""
    students = sorted(set(students))
    if reviewers < 1:
        raise ValueError("Each submission needs at least one reviewer (--reviewers 1 or more).")
    if reviewers >= len(students):
        raise ValueError(f"{len(students)} submissions allow at most {len(students) - 1} reviewers "
                         f"each (a student never reviews their own), not {reviewers}.")
    circle = students[:]
    random.Random(seed).shuffle(circle)
    return [(circle[i], circle[(i + step) % len(circle)])
            for i in range(len(circle)) for step in range(1, reviewers + 1)]


def review_form(assignment: str, code: str, questions: list[Question]) -> str:
    """A Markdown form for one review: the questions, with room for the answers."""
    parts = [f"# Peer review of {assignment}, submission `{code}`\n",
             "Write below each question. Quote the cell, number or figure you mean. Score each "
             "question from 1 (not answered) to 4 (convincing, with evidence from the notebook).\n"]
    for n, q in enumerate(questions or [Question("Written answers", "The written answers overall.")], 1):
        parts.append(f"## {n}. {q.label}\n\n> {q.text}\n\n**What convinces you:**\n\n\n"
                     f"**What is unclear or missing, and one suggestion:**\n\n\n**Score (1-4):** \n")
    parts.append("## Overall\n\n**The one thing the author should change first:**\n\n")
    return "\n".join(parts)


def write_reviewer_folders(folder: Path, assignment: str, codes: dict[str, str],
                           questions: list[Question], reviewers: int, seed: int = 0) -> Path:
    """``allocation.csv`` (reviewer, code) and, per reviewer, ``reviewers/<student>/`` with the
    PDFs to read and a review form for each. ``codes`` maps student -> anonymous code; the
    PDFs ``<code>.pdf`` are already in ``folder``. The key stays in ``folder`` only."""
    folder = Path(folder)
    pairs = allocate(list(codes), reviewers, seed)
    root = folder / "reviewers"
    if root.exists():
        shutil.rmtree(root)
    with open(folder / "allocation.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reviewer", "code"])
        for reviewer, author in pairs:
            code = codes[author]
            writer.writerow([reviewer, code])
            target = root / reviewer
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / f"{code}.pdf", target / f"{code}.pdf")
            (target / f"review_{code}.md").write_text(review_form(assignment, code, questions))
    return folder / "allocation.csv"
