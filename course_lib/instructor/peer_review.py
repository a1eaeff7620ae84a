"""PDFs of students' written work for peer review.

Made from the notebook the student submitted (never the autograded copy, which holds the
hidden tests): test cells are dropped, the rest is rendered to HTML by nbconvert and
printed to PDF by a headless Chromium (Debian's package; no LaTeX, no browser download).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from .chromium import PRINT_FLAGS, find_chromium
from .feedback import is_test_cell

def review_html(notebook_path: Path, title: str) -> str:
    """The submitted notebook as HTML, without autograder test cells."""
    nb = nbformat.read(notebook_path, as_version=4)
    nb.cells = [cell for cell in nb.cells if not is_test_cell(cell)]
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab")
    html, _ = exporter.from_notebook_node(nb)
    return html


def html_to_pdf(html: str, pdf_path: Path, timeout: float = 120) -> Path:
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


def notebook_to_pdf(notebook_path: Path, pdf_path: Path, title: str) -> Path:
    return html_to_pdf(review_html(Path(notebook_path), title), pdf_path)
