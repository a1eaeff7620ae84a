"""course_lib.instructor.peer_review: HTML without test cells, printed to PDF by headless Chromium."""

from __future__ import annotations

import os
import shutil
import stat

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from pypdf import PdfReader

from checks import nbgrader_meta
from course_lib.instructor import chromium, peer_review


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    nb = new_notebook(cells=[
        new_markdown_cell("# Lab 0: squares"),
        new_code_cell("def square(x):\n    return x * x  # studentcode", metadata=nbgrader_meta("sq", solution=True)),
        new_code_cell("assert square(3) == 9, 'secretvisibletest'", metadata=nbgrader_meta("test_sq", grade=True, points=1)),
        new_markdown_cell("Pooling halves the width: myansweristhis.", metadata=nbgrader_meta("q1", True, True, 2)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path_factory.mktemp("submitted") / "lab0.ipynb"
    nbformat.write(nb, path)
    return path


def test_review_html_drops_test_cells(submitted):
    html = peer_review.review_html(submitted, title="lab0: peer review copy abc123")
    assert "secretvisibletest" not in html
    assert "studentcode" in html and "myansweristhis" in html
    assert "<title>lab0: peer review copy abc123</title>" in html
    assert nbformat.read(submitted, as_version=4).cells[2].source.endswith("'secretvisibletest'"), \
        "the submitted file must not be changed"


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None
                    and shutil.which("google-chrome") is None, reason="needs Chromium")
def test_notebook_to_pdf_makes_a_real_pdf(submitted, tmp_path):
    target = tmp_path / "out" / "abc123.pdf"
    assert peer_review.notebook_to_pdf(submitted, target, title="lab0: peer review copy abc123") == target
    assert target.read_bytes().startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert "myansweristhis" in text and "Lab 0: squares" in text
    assert "secretvisibletest" not in text


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
