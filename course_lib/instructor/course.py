"""The course folder and its facts: one home for the course id, the kernel, the folders
nbgrader uses and where each notebook lives.

``nbgrader_config.py``, the pipeline, the JupyterLab launcher, the tests and the benchmarks
read these names from here instead of writing them out again.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

COURSE_ID = "cnn-mnist"
#: The Jupyter kernelspec students, Validate and autograde all run (installed by ``make env``).
KERNEL_NAME = "course-mnist"
KERNEL_DISPLAY_NAME = "CNNs on MNIST (course)"
CONFIG_FILE = "nbgrader_config.py"
#: nbgrader's folders, relative to the course root (``nbgrader_config.py`` sets them).
FOLDERS = {
    "source": "source",
    "release": "release",
    "submitted": "submitted",
    "autograded": "autograded",
    "feedback": "feedback",
}
#: What an instructor starts a course from: copied by :func:`copy_course`.
COURSE_FILES = (CONFIG_FILE,)
ASSIGNMENT_FOLDERS = ("source", "demo")


def tools_on_path() -> None:
    """Put this Python environment's ``bin/`` first on PATH: nbgrader's gradebook shells out
    to ``alembic``, which is found only there when the environment is not activated
    (``.venv/bin/course ...``, ``.venv/bin/python benchmarks/...``)."""
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + path


class Course:
    """An nbgrader course folder: its config, its assignments and where notebooks live."""

    def __init__(self, root: str | Path = "."):
        self.root = Path(root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"{self.root} holds no {CONFIG_FILE}; run from the course "
                                    f"folder or pass its path.")
        tools_on_path()
        config = PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()
        config.CourseDirectory.root = str(self.root)
        self.config = config
        self.api = NbGraderAPI(config=config)

    def assignments(self) -> list[str]:
        """Assignment ids: folders of ``source/`` holding a notebook of the same name."""
        return sorted(p.parent.name for p in (self.root / FOLDERS["source"]).glob("*/*.ipynb")
                      if p.stem == p.parent.name)

    def submitted_students(self, assignment: str) -> list[str]:
        """Students with a submitted notebook for ``assignment``."""
        pattern = f"*/{assignment}/{assignment}.ipynb"
        return sorted(p.parents[1].name for p in (self.root / FOLDERS["submitted"]).glob(pattern))

    def notebook(self, folder: str, assignment: str, student: str | None = None) -> Path:
        """``<folder>/[<student>/]<id>/<id>.ipynb``: where nbgrader keeps that notebook."""
        return self.root / notebook_path(folder, assignment, student)

    def demo_file(self, assignment: str, name: str) -> Path:
        """A file of the assignment's demo folder (``demo/<id>/<name>``)."""
        return self.root / "demo" / assignment / name


def notebook_path(folder: str, assignment: str, student: str | None = None) -> Path:
    """The relative path of an assignment's notebook in one of nbgrader's folders."""
    parts = [FOLDERS.get(folder, folder)] + ([student] if student else [])
    return Path(*parts, assignment, f"{assignment}.ipynb")


def copy_course(repo: str | Path, target: str | Path, assignments: list[str] | None = None) -> Course:
    """A fresh course folder in ``target`` holding only what an instructor starts from: the
    config and, per assignment, its source and demo folders (all assignments by default).
    Tests and benchmarks grade in such a copy, never in the repository."""
    repo, target = Path(repo), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        shutil.copy(repo / name, target / name)
    for assignment in assignments or Course(repo).assignments():
        for folder in ASSIGNMENT_FOLDERS:
            if (repo / folder / assignment).is_dir():
                shutil.copytree(repo / folder / assignment, target / folder / assignment)
    return Course(target)
