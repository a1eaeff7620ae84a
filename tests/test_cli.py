"""The `course` command: one subcommand per instructor task, each explaining itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.instructor import cli
from course_lib.instructor.course import copy_course

from conftest import REPO

SUBCOMMANDS = ["demo", "autograde", "quality", "peer-review", "lab", "kernel"]


def help_text(capsys, *args) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*args, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_lists_every_subcommand(capsys):
    text = help_text(capsys)
    for name in SUBCOMMANDS:
        assert name in text


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_explains_itself(capsys, name):
    text = help_text(capsys, name)
    assert f"usage: course {name}" in text
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 8, f"`course {name} --help` should say what it does: {description!r}"


def test_a_folder_without_config_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["peer-review", "lab0", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("course peer-review: ") and "nbgrader_config.py" in err


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "course"
    assert script.is_file() or shutil.which("course"), "make env installs the `course` script"
    done = subprocess.run([str(script if script.is_file() else shutil.which("course")), "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "peer-review" in done.stdout


def test_the_tools_work_without_an_activated_environment(tmp_path):
    """`.venv/bin/course ...` or `.venv/bin/python benchmarks/...` from a plain shell:
    nbgrader's gradebook shells out to `alembic`, which only the environment's bin/ holds."""
    root = copy_course(REPO, tmp_path / "course", ["training_diagnostics"]).root
    code = ("from course_lib.instructor.pipeline import Pipeline; "
            f"Pipeline({str(root)!r}).generate('training_diagnostics')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert (root / "release" / "training_diagnostics" / "training_diagnostics.ipynb").is_file()
