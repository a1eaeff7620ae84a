"""Feedback a student can read, and that neither hidden tests nor student code reach into.

nbgrader's ``GenerateFeedback`` renders the autograded notebook, hidden tests, test output
and all. ``nbgrader_config.py`` runs these preprocessors after nbgrader's ``GetGrades``
(replaced by :class:`GetGradesAndStatus`) and renders with the course's template
(``templates/course/course_feedback.html.j2``, extending nbgrader's feedback page):

- :class:`HideHiddenTests` removes every hidden-test region and drops any output of any
  cell that quotes a hidden-test line (a student function called by a hidden test can
  read the calling cell's source and raise or print it);
- :class:`TestVerdicts` turns each test cell into its verdict: its name (the cell's
  ``# Test: ...`` line), pass/fail, points and the grader's one-sentence message; the
  test's code and its outputs are not shown, except the grader's stand-in notes.

The template names every graded cell in the summary at the top, says "not graded yet"
for written answers nobody has graded, and puts a banner on a submission held for the
instructor's review (``metadata["course"]["integrity"]["review"]``).
"""

from __future__ import annotations

import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import GetGrades
from traitlets import Bool, Integer, Unicode

from ..grading import STAND_IN_MIME

HIDDEN_NOTE = "# Hidden tests ran here; their code is not shown."
#: What replaces an output or message that quoted hidden-test code.
WITHHELD = "(This message is not shown: it quoted the grader's hidden test code.)"
#: The course's nbconvert templates; ``course`` (whose base is nbgrader's ``feedback``) holds
#: the feedback page.
TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_NAME = "course"
TEMPLATE_FILE = "course_feedback.html.j2"
TEST_TITLE = "# Test:"
#: nbgrader scores a test cell 0 when it writes to stderr; say so when nothing else failed.
STDERR_MESSAGE = "This test wrote to the error output (stderr), which the grader counts as a failure."
#: The course's namespace in cell metadata for what the feedback page shows.
META = "course_feedback"


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, not a solution, code."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def is_graded(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade", False))


def humanise(grade_id: str) -> str:
    """``test_cnn_architecture`` -> "Cnn architecture", ``q2_1`` -> "Q2.1"."""
    words = re.sub(r"^test_", "", grade_id)
    words = re.sub(r"(?<=\d)_(?=\d)", ".", words).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def cell_title(cell) -> str:
    """What the feedback calls a graded cell: the test's ``# Test: ...`` line (first line of
    the cell), else its humanised grade id."""
    first = cell.source.lstrip().split("\n", 1)[0].strip()
    if is_test_cell(cell) and first.startswith(TEST_TITLE) and first[len(TEST_TITLE):].strip():
        text = first[len(TEST_TITLE):].strip()
        return text[:1].upper() + text[1:]
    name = humanise(cell.metadata.get("nbgrader", {}).get("grade_id", "cell"))
    return name if is_test_cell(cell) else f"Written answer {name}" if cell.cell_type == "markdown" \
        else f"Your code: {name}"


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hidden_test_lines(nb, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS",
                      min_length: int = 8) -> set[str]:
    """Whitespace-squashed lines inside hidden-test regions of the notebook's test cells that
    are at least ``min_length`` long and appear nowhere outside those regions."""
    inside, outside = set(), set()
    for cell in nb.cells:
        hidden = False
        for line in cell.source.splitlines():
            if begin in line:
                hidden = True
            elif end in line:
                hidden = False
            else:
                (inside if hidden and is_test_cell(cell) else outside).add(_squash(line))
    return {line for line in inside - outside if len(line) >= min_length}


def quotes_any(text, lines: set[str]) -> bool:
    """Whether ``text`` (any whitespace) contains one of ``lines``."""
    squashed = _squash(text)
    return any(line in squashed for line in lines)


def _output_texts(output) -> list[str]:
    if output.output_type == "stream":
        return [output.get("text", "")]
    if output.output_type == "error":
        return [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
    return [value if isinstance(value, str) else str(value) for value in output.get("data", {}).values()]


class GetGradesAndStatus(GetGrades):
    """nbgrader's GetGrades, also recording whether a person or the autograder has scored
    each graded cell, so the feedback can say "not graded yet" instead of 0 points."""

    def _get_score(self, cell, resources) -> None:
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        cell.metadata.setdefault(META, {})["graded"] = (grade.manual_score is not None
                                                        or grade.auto_score is not None)


class HideHiddenTests(Preprocessor):
    """Strip hidden-test regions from test cells and drop every output, in any cell, that
    quotes a line of hidden-test code."""

    enabled = Bool(True).tag(config=True)
    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    min_length = Integer(8, help="Shorter hidden-test lines are not searched for in outputs "
                                 "(too common to be secret).").tag(config=True)

    def preprocess(self, nb, resources):
        self._hidden = hidden_test_lines(nb, self.begin, self.end, self.min_length)
        return super().preprocess(nb, resources)

    def _strip_source(self, source: str) -> str:
        kept, hidden = [], False
        for line in source.splitlines():
            if self.begin in line:
                hidden = True
                kept.append(HIDDEN_NOTE)
            elif self.end in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        return "\n".join(kept)

    def _scrub(self, output):
        if not any(quotes_any(text, self._hidden) for text in _output_texts(output)):
            return output
        if output.output_type == "error":
            output.evalue = WITHHELD
            output.traceback = [f"{output.ename}: {WITHHELD}"]
            return output
        return new_output("stream", name="stdout", text=WITHHELD + "\n")

    def preprocess_cell(self, cell, resources, index):
        if is_test_cell(cell):
            cell.source = self._strip_source(cell.source)
            for output in cell.get("outputs", []):
                if output.output_type == "error":  # the traceback shows the test's code
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        if cell.cell_type == "code":
            cell.outputs = [self._scrub(output) for output in cell.get("outputs", [])]
        return cell, resources


class TestVerdicts(Preprocessor):
    """Name every graded cell; turn each test cell into its verdict: the grader's message
    (an AssertionError's sentence, or an exception's type and a short message) and the
    stand-in notes. The test's code and every other output are dropped."""

    __test__ = False  # not a pytest test class
    enabled = Bool(True).tag(config=True)
    max_message = Integer(200, help="An exception's type and message are cut to this many "
                                    "characters.").tag(config=True)
    max_assertion = Integer(500, help="A failed check's message (one sentence by the course's "
                                      "rules) is cut to this many characters.").tag(config=True)

    def _message(self, output) -> str:
        """The grader's sentence of an AssertionError, or an exception's type and the first
        line of its message, on one line and capped (student code may raise anything)."""
        ename = _squash(output.get("ename") or "Error")
        evalue = (output.get("evalue") or "").strip()
        if ename == "AssertionError":
            return _cap(_squash(evalue), self.max_assertion) or "A check of this test failed."
        first = _squash(evalue.split("\n", 1)[0])
        return _cap(f"{ename}: {first}" if first else ename, self.max_message)

    def _note(self, output) -> str | None:
        """The grader's stand-in note (``grading.used_stand_in``) in ``output``, if any."""
        note = output.get("data", {}).get(STAND_IN_MIME) if output.output_type == "display_data" else None
        if not isinstance(note, dict) or not {"part", "reason"} <= set(note):
            return None
        return _cap(_squash(f"Graded with {note['part']} because {note['reason']}."), self.max_assertion)

    def preprocess_cell(self, cell, resources, index):
        if not is_graded(cell):
            return cell, resources
        meta = cell.metadata.setdefault(META, {})
        meta["title"] = cell_title(cell)
        if is_test_cell(cell):
            outputs = cell.get("outputs", [])
            meta["messages"] = [self._message(o) for o in outputs if o.output_type == "error"]
            if not meta["messages"] and any(o.output_type == "stream" and o.get("name") == "stderr"
                                            for o in outputs):
                meta["messages"] = [STDERR_MESSAGE]
            meta["notes"] = [note for note in map(self._note, outputs) if note]
            cell.source = ""
            cell.outputs = []
            cell.execution_count = None
        return cell, resources


def template_basedirs() -> list[str]:
    """Where the feedback exporter finds templates: the course's ``course`` template first,
    then nbgrader's ``feedback`` (its base, whose ``index.html.j2`` the course's extends)."""
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    return [str(TEMPLATES), str(nbgrader_templates)]
