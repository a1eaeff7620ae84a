"""The training diagnostics lab stays framework-free: NumPy and matplotlib only."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat

from conftest import REPO
from course_lib.instructor.course import notebook_path

NOTEBOOK = REPO / notebook_path("source", "training_diagnostics")
FRAMEWORKS = ("tensorflow", "keras", "torch")


def code_of_notebook() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


def test_notebook_imports_no_deep_learning_framework():
    code = code_of_notebook()
    pattern = rf"^\s*(import|from)\s+({'|'.join(FRAMEWORKS)})\b"
    assert re.findall(pattern, code, flags=re.MULTILINE) == []


def test_course_lib_modules_it_uses_load_no_framework():
    code = code_of_notebook()
    used = sorted({name.strip() for names in re.findall(r"^\s*from course_lib import (.+)$", code, re.MULTILINE)
                   for name in names.split(",")})
    assert {"curves", "data", "budget"} <= set(used)
    probe = (f"import sys; from course_lib import {', '.join(used)}; "
             f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
