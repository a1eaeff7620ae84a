"""course_lib.instructor.lab without a browser: per-role nbgrader settings and the shared kernel."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbgrader.preprocessors import Execute
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course_lib.instructor import lab
from course_lib.instructor.course import COURSE_ID, KERNEL_NAME

REPO = Path(__file__).resolve().parents[1]


def load(path: Path) -> Config:
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def test_student_config_names_exchange_course_and_student(tmp_path):
    server = lab.student("alice", tmp_path / "state", tmp_path / "exchange")
    server.prepare()
    config = load(server.config_dir / "nbgrader_config.py")
    assert config.Exchange.root == str((tmp_path / "exchange").resolve())
    assert config.CourseDirectory.course_id == COURSE_ID
    assert config.CourseDirectory.student_id == "alice"
    assert config.Exchange.cache == str((tmp_path / "state" / "alice" / "nbgrader_cache").resolve())
    assert server.root_dir == (tmp_path / "state" / "alice" / "work").resolve()
    assert (tmp_path / "exchange").is_dir()
    hidden = json.loads((server.config_dir / "labconfig" / "page_config.json").read_text())
    assert hidden["disabledExtensions"] == {name: True for name in lab.HIDDEN_PLUGINS["student"]}
    assert "@jupyter/nbgrader:formgrader" in hidden["disabledExtensions"]


def test_instructor_runs_in_the_course_folder_without_a_student_id(tmp_path):
    server = lab.instructor(REPO, tmp_path / "state", tmp_path / "exchange")
    server.prepare()
    config = load(server.config_dir / "nbgrader_config.py")
    assert server.root_dir == REPO
    assert config.Exchange.root == str((tmp_path / "exchange").resolve())
    assert "student_id" not in config.CourseDirectory
    assert "--ServerApp.jpserver_extensions=nbgrader.server_extensions.formgrader=False" \
        not in server.command()


def test_server_environment_passes_data_and_drops_headless_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "/data/mnist-lite.npz")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    env = lab.student("bob", tmp_path, tmp_path / "x").environment()
    assert env["COURSE_DATA"] == "/data/mnist-lite.npz"
    assert "MPLBACKEND" not in env
    assert env["JUPYTER_CONFIG_DIR"] == str((tmp_path / "bob" / "config").resolve())
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


@pytest.mark.parametrize("name", ["", "a+b", "*", "x/y", "two words"])
def test_bad_student_id_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="student id"):
        lab.student(name, tmp_path, tmp_path / "exchange")


def test_autograde_and_browser_use_the_same_kernel():
    """nbgrader's Execute runs the kernelspec the notebooks name, and it is this Python."""
    config = load(REPO / "nbgrader_config.py")
    assert Execute(config=config).kernel_name == KERNEL_NAME
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()
    for notebook in sorted((REPO / "release").glob("*/*.ipynb")):
        kernelspec = nbformat.read(notebook, as_version=4).metadata.kernelspec
        assert kernelspec.name == KERNEL_NAME, f"{notebook.name} should use the course kernel."
