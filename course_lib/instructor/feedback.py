"""Feedback without hidden tests.

nbgrader's default feedback shows the autograded notebook, hidden tests included. The
preprocessor here, registered in ``nbgrader_config.py`` for ``GenerateFeedback``, removes
every hidden-test region from the source shown and cuts the traceback of failed test
cells down to its last line (the error and its one-sentence message), so students see
pass/fail and what was expected, never the test code.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

HIDDEN_NOTE = "# Hidden tests ran here; their code is not shown."


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, not a solution, code."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


class HideHiddenTests(Preprocessor):
    """Strip hidden-test source and tracebacks from test cells."""

    enabled = Bool(True).tag(config=True)
    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)

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

    def preprocess_cell(self, cell, resources, index):
        if is_test_cell(cell):
            cell.source = self._strip_source(cell.source)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
