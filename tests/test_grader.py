"""``course autograde``: a class graded on a real Dask cluster (a `dask scheduler` and two
`dask worker` processes, or the embedded local cluster), on SQLite and on a test-started
PostgreSQL, with a worker killed and the coordinator interrupted mid-batch, recording what
serial ``nbgrader autograde`` records."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from conftest import REPO
from services import dask_cluster, postgres_server, stop_group
from tiny_course import ASSIGNMENT, make_course, reference
from course_lib.instructor import demo
from course_lib.instructor.course import Course, copy_course
from course_lib.instructor.pipeline import Pipeline

GRADABLE = ("alice", "bob", "carol")  # reference, blank, wrong
DUE = datetime.utcnow() - timedelta(days=1)  # every submission of these tests is late


def slow(nb, seconds: float):
    """A correct submission whose first solution cell takes ``seconds``."""
    return demo.wrong_notebook(nb, demo.WrongSubmission(
        "sleeps", [("def square(x):", f"import time\ntime.sleep({seconds})\ndef square(x):")], []))


def submit_class(course: Pipeline, assignment: str, notebooks: dict) -> None:
    for student, nb in notebooks.items():
        course.submit(assignment, student, nb)


def new_course(folder: Path, db_url: str | None = None, submitted_from: Path | None = None) -> Pipeline:
    """The tiny lab0 course, generated, due yesterday (every submission is late), with the
    submissions of ``submitted_from`` copied in (same files, same timestamps)."""
    folder.mkdir(parents=True, exist_ok=True)
    course = Pipeline(make_course(folder))
    if db_url:
        course.api.coursedir.db_url = db_url
    course.generate(ASSIGNMENT)
    with course.api.gradebook as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    if submitted_from:
        shutil.copytree(submitted_from / "submitted", course.root / "submitted")
    return course


def autograde(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """The instructor's command, as a separate process."""
    return subprocess.run([sys.executable, "-m", "course_lib.instructor.cli", "autograde", ASSIGNMENT,
                           "--root", str(root), *args], capture_output=True, text=True, timeout=timeout)


def start_autograde(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "course_lib.instructor.cli", "autograde",
                             ASSIGNMENT, "--root", str(root), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def recorded(course: Pipeline, student: str, assignment: str = ASSIGNMENT) -> dict:
    """What autograde recorded for one submission: per-cell scores and flags, timestamp,
    lateness, and the files of its autograded folder."""
    with course.api.gradebook as gradebook:
        submission = gradebook.find_submission(assignment, student)
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        record = {
            "cells": {g.name: (g.auto_score, g.max_score, g.needs_manual_grade) for g in notebook.grades},
            "timestamp": submission.timestamp, "seconds_late": submission.total_seconds_late,
            "needs_manual_grade": submission.needs_manual_grade,
        }
    folder = course.root / "autograded" / student / assignment
    record["files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    record["timestamp.txt"] = (folder / "timestamp.txt").read_text()
    return record


def autograded_notebook(course: Pipeline, student: str) -> Path:
    return course.notebook("autograded", ASSIGNMENT, student)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The class graded one by one by plain nbgrader: what course autograde must match."""
    course = new_course(tmp_path_factory.mktemp("serial"))
    release = nbformat.read(course.notebook("release", ASSIGNMENT), as_version=4)
    wrong = demo.WrongSubmission.load(course.demo_file(ASSIGNMENT, "wrong_submission.json"))
    submit_class(course, ASSIGNMENT, {"alice": reference(), "bob": release,
                                      "carol": demo.wrong_notebook(reference(), wrong),
                                      "dave": reference()})
    course.notebook("submitted", ASSIGNMENT, "dave").write_text("{ not a notebook")
    for student in GRADABLE:
        course.autograde(ASSIGNMENT, student)
    return course


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(("a", "b"), log_dir=tmp_path_factory.mktemp("dask-logs")) as cluster:
        yield cluster


def check_batch(result: subprocess.CompletedProcess, course: Pipeline, serial: Pipeline) -> None:
    """Graded like serial nbgrader; the unreadable one failed with its reason; exit status 1."""
    assert result.returncode == 1, result.stdout + result.stderr
    for student in GRADABLE:
        assert recorded(course, student) == recorded(serial, student), student
        assert f"\n{student} " in result.stdout
    assert recorded(course, "alice")["seconds_late"] > 0  # due yesterday: flagged late
    assert "FAILED dave: preparing it failed: NotJSONError" in result.stdout
    assert not (course.root / "autograded" / "dave" / ASSIGNMENT).exists()
    assert "3 graded, 0 already graded, 1 failed" in result.stdout


def test_a_class_on_a_dask_cluster_is_graded_as_serial_nbgrader(serial, cluster, tmp_path):
    course = new_course(tmp_path / "course", submitted_from=serial.root)
    result = autograde(course.root, "--scheduler", cluster.address)
    check_batch(result, course, serial)
    assert (course.root / "gradebook.db").is_file()


def test_the_same_class_with_a_postgresql_gradebook(serial, cluster, tmp_path):
    with postgres_server() as url:
        course = new_course(tmp_path / "course", db_url=url, submitted_from=serial.root)
        result = autograde(course.root, "--scheduler", cluster.address, "--db", url)
        check_batch(result, course, serial)
        assert not (course.root / "gradebook.db").exists()  # every grade went to PostgreSQL


def test_what_plain_nbgrader_graded_counts_as_graded_and_unknown_students_are_named(serial):
    result = autograde(serial.root, "--students", *GRADABLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 graded, 3 already graded, 0 failed" in result.stdout
    assert "alice    3 / 5" in result.stdout and "late; needs manual grading" in result.stdout
    unknown = autograde(serial.root, "--students", "alice", "zoe")
    assert unknown.returncode == 1
    assert "No submission of lab0 for: zoe." in unknown.stderr


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path):
    course = new_course(tmp_path / "course")
    students = [f"s{i}" for i in range(3)]
    submit_class(course, ASSIGNMENT, {s: slow(reference(), 5) for s in students})
    with dask_cluster(("a", "b"), log_dir=tmp_path) as cluster, cluster.client() as client:
        coordinator = start_autograde(course.root, "--scheduler", cluster.address)
        try:
            victim, key = None, None
            deadline = time.monotonic() + 300
            while victim is None and time.monotonic() < deadline and coordinator.poll() is None:
                names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
                for address, keys in client.processing().items():
                    if keys:
                        victim, key = names[address], keys[0]
                        break
                time.sleep(0.2)
            assert victim is not None, "no task ever ran"
            time.sleep(2)  # inside the sandbox by now
            stop_group(cluster.workers[victim], signal.SIGKILL)
            output, _ = coordinator.communicate(timeout=600)
        finally:
            if coordinator.poll() is None:
                coordinator.kill()
    assert coordinator.returncode == 0, output
    assert "3 graded, 0 already graded, 0 failed" in output
    assert f"-{ASSIGNMENT}-" in str(key)
    for student in students:  # every one complete, the killed worker's too: graded elsewhere
        cells = recorded(course, student)["cells"]
        assert cells["test_cube"][0] == 1 and cells["test_square"][0] == 2, student


def test_an_interrupted_batch_resumes_with_only_what_is_missing(tmp_path):
    course = new_course(tmp_path / "course")
    students = [f"s{i}" for i in range(3)]
    submit_class(course, ASSIGNMENT, {s: slow(reference(), 3) for s in students})
    coordinator = start_autograde(course.root, "--workers", "1")
    deadline = time.monotonic() + 600
    while not any(autograded_notebook(course, s).exists() for s in students):
        assert coordinator.poll() is None and time.monotonic() < deadline, coordinator.stdout.read()
        time.sleep(0.1)
    coordinator.send_signal(signal.SIGINT)  # Ctrl-C
    output, _ = coordinator.communicate(timeout=120)
    assert coordinator.returncode == 130, output
    assert "Run the same command again" in output
    done = {s: autograded_notebook(course, s).stat().st_mtime_ns for s in students
            if autograded_notebook(course, s).exists()}
    assert 0 < len(done) < len(students), output

    # One graded student hands in again: that submission is missing too.
    resubmitted = sorted(done)[0]
    stamp = course.notebook("submitted", ASSIGNMENT, resubmitted).parent / "timestamp.txt"
    stamp.write_text((datetime.utcnow() + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    del done[resubmitted]

    again = autograde(course.root, "--workers", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(students) - len(done)} graded, {len(done)} already graded, 0 failed" in again.stdout
    assert recorded(course, resubmitted)["timestamp.txt"] == stamp.read_text()
    for student in students:
        assert recorded(course, student)["cells"]["test_square"][0] == 2
        if student in done:  # not graded again
            assert autograded_notebook(course, student).stat().st_mtime_ns == done[student]

    before = autograded_notebook(course, "s1").stat().st_mtime_ns
    forced = autograde(course.root, "--workers", "1", "--students", "s1", "--force")
    assert "1 graded, 0 already graded, 0 failed" in forced.stdout, forced.stdout + forced.stderr
    assert autograded_notebook(course, "s1").stat().st_mtime_ns != before


#: What CI compares (the NumPy assignment and the quickest Keras one); the others with
#: ``pytest --every-assignment`` (about 10 more minutes).
CI_ASSIGNMENTS = ("training_diagnostics", "lab7_cnn_mnist")


@pytest.mark.lifecycle
@pytest.mark.parametrize("assignment", Course(REPO).assignments())
def test_demo_submissions_score_as_with_serial_nbgrader(assignment, tmp_path, request):
    """Every cell's score, flags and timestamps as serial `nbgrader autograde` records them,
    on the assignment's demo submissions (reference, blank, wrong), with two workers."""
    if assignment not in CI_ASSIGNMENTS and not request.config.getoption("--every-assignment"):
        pytest.skip("compared with --every-assignment (CI compares a sample)")
    serial = Pipeline(copy_course(REPO, tmp_path / "serial", [assignment]).root)
    serial.generate(assignment)
    for student, nb in demo.demo_notebooks(serial.root, assignment).items():
        serial.submit(assignment, student, nb)
        serial.autograde(assignment, student)
    course = Pipeline(copy_course(REPO, tmp_path / "parallel", [assignment]).root)
    course.generate(assignment)
    shutil.copytree(serial.root / "submitted", course.root / "submitted")
    result = subprocess.run([sys.executable, "-m", "course_lib.instructor.cli", "autograde", assignment,
                             "--root", str(course.root), "--workers", "2"],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    for student in demo.STUDENTS:
        assert recorded(course, student, assignment) == recorded(serial, student, assignment), student
    cells = recorded(course, "reference", assignment)["cells"]
    assert all(score == points for score, points, manual in cells.values() if not manual)
