"""Shared test set-up: offline data, quiet TensorFlow, Agg plots, nbgrader's PATH, and the
``--every-assignment`` option."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from course_lib.instructor.course import tools_on_path

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "datasets" / "mnist-lite.npz"
#: The offline mnist-lite file: the shared copy beside the repository, else the one
#: COURSE_DATA names (a clone elsewhere, as the README says for offline machines).
OFFLINE_MNIST = SHARED_MNIST if SHARED_MNIST.is_file() else Path(os.environ.get("COURSE_DATA") or SHARED_MNIST)


def pytest_configure(config):
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not os.environ.get("COURSE_DATA") and SHARED_MNIST.is_file():
        os.environ["COURSE_DATA"] = str(SHARED_MNIST)
    tools_on_path()  # nbgrader shells out to alembic, which lives next to this Python


def pytest_addoption(parser):
    parser.addoption("--every-assignment", action="store_true",
                     help="run the slow per-assignment comparisons on every assignment, not only "
                          "on the sample CI runs")


@pytest.fixture
def never_show(monkeypatch):
    """Fail if course_lib.plots shows a figure itself (it must only return it)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    def show(*args, **kwargs):
        raise AssertionError("course_lib.plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    monkeypatch.setattr(Figure, "show", show)
    yield
    plt.close("all")
