"""Autograde's sanitizing step that puts back the grading metadata a student changed.

nbgrader's ``OverwriteCells`` restores the source of locked cells and the points of grade
cells, and (with ``add_missing_cells``) re-adds deleted test cells. It trusts the rest of
a cell's ``nbgrader`` metadata: a test cell a student marked ``grade: false`` is run
without being scored, and the submission then fails to autograde. This step runs first
and makes every cell with a known ``grade_id`` say again what the gradebook says it is;
a cell claiming an id the gradebook does not know loses its grading metadata.
"""

from __future__ import annotations

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor


class RestoreCellMetadata(NbGraderPreprocessor):
    """Restore ``grade``, ``solution``, ``task``, ``locked`` and ``points`` of every
    nbgrader cell from the gradebook (the release as generated)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            source = gradebook.find_notebook(info["notebook"], info["assignment"])
            cells = {cell.name: cell for cell in source.source_cells}
            grades = {cell.name: cell.max_score for cell in source.grade_cells}
            solutions = {cell.name for cell in source.solution_cells}
            tasks = {cell.name: cell.max_score for cell in source.task_cells}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if not meta:
                continue
            grade_id = meta.get("grade_id")
            if grade_id not in cells:
                if grade_id is not None or meta.get("grade") or meta.get("solution"):
                    self.log.warning("Cell %r is not in the gradebook; its grading metadata is removed.",
                                     grade_id)
                cell.metadata.pop("nbgrader")
                continue
            wanted = {
                "grade": grade_id in grades,
                "solution": grade_id in solutions,
                "task": grade_id in tasks,
                "locked": bool(cells[grade_id].locked),
            }
            if grade_id in grades or grade_id in tasks:
                wanted["points"] = float(grades.get(grade_id, tasks.get(grade_id)))
            for key, value in wanted.items():
                if meta.get(key, False if key != "points" else None) != value:
                    self.log.warning("Cell %s: restoring %s = %r (the submission had %r).",
                                     grade_id, key, value, meta.get(key))
                    meta[key] = value
            if "points" not in wanted:
                meta.pop("points", None)
        return nb, resources
