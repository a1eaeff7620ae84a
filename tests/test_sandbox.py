"""Hostile submissions against the grading sandbox (course_lib.instructor.sandbox).

One batch of plain nbgrader autogrades on the tiny course (short limits in its
nbgrader_config.py): an honest student graded first and last, and one attacker per kind of
attack, each the reference solution plus the attack cells a hostile student would add. Each
test checks that the attack was contained and that the honest student is unaffected.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import subprocess
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import OFFLINE_MNIST
from course_lib.instructor import sandbox
from course_lib.instructor.pipeline import Pipeline
from tiny_course import ASSIGNMENT, FULL_MARKS, HIDDEN_LINE, make_course, reference, scores

#: The batch's limits, appended to the course's nbgrader_config.py.
LIMITS = """
c.Execute.timeout = 20
c.SandboxedExecute.notebook_timeout = 30
c.SandboxedExecute.memory_limit = 640 * 1024 ** 2
c.SandboxedExecute.process_limit = 64
c.SandboxedExecute.file_size_limit = 5 * 1000 ** 2
c.SandboxedExecute.output_limit = 100 * 1000
c.SandboxedExecute.threads = 1
"""
MARK = uuid.uuid4().hex[:10]  # names this run's planted files and left-behind processes
SLEEP_SECONDS = 4000 + int(MARK[:3], 16)  # a command line no other process has


def attacks(root: Path, port: int) -> dict[str, tuple[int, list[str]]]:
    """Student -> (index to insert the attack cells at, their code). Index 3 runs after the
    solutions, before both tests; 4 runs between the cube test and the square test."""
    return {
        "gradebook": (3, f"""
import os, sqlite3, sys
found = []
python = (sys.prefix, sys.base_prefix)  # read-only packages (nbgrader ships a test gradebook.db)
for folder, subfolders, names in os.walk('/'):
    if folder.startswith(python):
        subfolders.clear()
    elif folder in ('/', '/opt/course', '/work', '/root') or folder.startswith(('/home', '/tmp', '/etc')):
        found += [os.path.join(folder, n) for n in names if n in ('gradebook.db', 'lab0.ipynb')]
    elif folder != '/':
        subfolders.clear()  # the system's and Python's own folders hold no course files
print('found:', found)
for path in ['{root}/gradebook.db', '../../../gradebook.db', '{root}/source/lab0/lab0.ipynb']:
    try:
        if path.endswith('.db'):
            db = sqlite3.connect(path)
            db.execute("update grade set auto_score = 900")
            db.commit()
        print(open(path).read())
    except Exception as error:
        print('blocked:', type(error).__name__)
for path in ['{root}/source/lab0/planted_{MARK}.py', '{root}/planted_{MARK}.txt',
             '/tmp/planted_{MARK}.txt', 'planted_{MARK}.txt']:
    try:
        open(path, 'w').write('planted')
        print('wrote', path)
    except Exception as error:
        print('blocked:', type(error).__name__)
"""),
        "network": (3, f"""
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'stolen')
    print('connected')
except OSError as error:
    print('no network:', type(error).__name__)
"""),
        "background": (3, f"""
import os, subprocess
subprocess.Popen(['sleep', '{SLEEP_SECONDS}'], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execvp('sleep', ['sleep', '{SLEEP_SECONDS}'])
print('left two processes running')
"""),
        "output": (3, """
chunk = 'y' * 100_000
for _ in range(500):
    print(chunk)
"""),
        "memory": (4, """
import numpy as np
hog = np.ones(1024 ** 3 // 8)
"""),
        "loop": (4, ["import time\ntime.sleep(12)", "time.sleep(12)", "while True:\n    pass"]),
        "stubborn": (4, "while True:\n    try:\n        while True:\n            pass\n"
                        "    except KeyboardInterrupt:\n        pass"),
        "forkbomb": (3, """
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        children += 1
except OSError as error:
    print('fork refused after', children, 'children:', type(error).__name__)
for _ in range(children):
    os.wait()
"""),
        "bigfile": (3, """
try:
    with open('big.bin', 'wb') as big:
        for _ in range(50):
            big.write(b'x' * 1_000_000)
except OSError as error:
    print('write refused:', error.strerror)
"""),
    }


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def sandbox_leftovers() -> set[str]:
    """Cgroups of sandboxes with no process left in them: what a sandbox that was not cleaned
    up leaves behind (the cgroups of sandboxes other graders run right now hold a kernel)."""
    cgroups = Path(sandbox.CGROUP_ROOT, "pids", sandbox.CGROUP_PARENT)
    return {p.name for p in cgroups.iterdir()
            if p.is_dir() and not (p / "cgroup.procs").read_text().strip()} if cgroups.is_dir() else set()


class Listener:
    """A real TCP service on the grader's loopback: counts connections that arrive."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                self.accepted += 1
                connection.close()
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("hostile"))
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(LIMITS)
    course = Pipeline(root)
    course.generate(ASSIGNMENT)
    listener = Listener()
    try:
        course.submit(ASSIGNMENT, "alice", reference())
        course.autograde(ASSIGNMENT, "alice")
        before = {"alice": scores(course, "alice"), "source": tree_digest(root / "source"),
                  "sandboxes": sandbox_leftovers()}
        for student, (index, code) in attacks(root, listener.port).items():
            nb = reference()
            cells = code if isinstance(code, list) else [code]
            nb.cells[index:index] = [new_code_cell(source.strip()) for source in cells]
            course.submit(ASSIGNMENT, student, nb)
            course.autograde(ASSIGNMENT, student)
            course.feedback(ASSIGNMENT, student)
        course.submit(ASSIGNMENT, "zoe", reference())
        course.autograde(ASSIGNMENT, "zoe")
    finally:
        listener.close()
    return course, before, listener


def graded(course: Pipeline, student: str):
    return nbformat.read(course.notebook("autograded", ASSIGNMENT, student), as_version=4)


def text_of(cell) -> str:
    return "".join(o.get("text", "") + o.get("evalue", "") for o in cell.get("outputs", []))


def attack_output(course, student) -> str:
    """The output of the cell the attacker added to the reference."""
    ours = {c.source for c in reference().cells}
    return "".join(text_of(c) for c in graded(course, student).cells if c.source not in ours)


def test_honest_students_graded_around_the_attacks_get_full_marks(batch):
    course, before, _ = batch
    assert before["alice"] == FULL_MARKS
    assert scores(course, "alice") == FULL_MARKS, "an attacker changed another student's grades"
    assert scores(course, "zoe") == FULL_MARKS


def test_gradebook_and_course_files_are_out_of_reach(batch):
    course, before, _ = batch
    output = attack_output(course, "gradebook")
    assert "found: []" in output, output
    # the first five are the course's files; /tmp and the work folder are the sandbox's own
    assert output.count("blocked:") == 5, output
    assert HIDDEN_LINE not in output and "BEGIN HIDDEN TESTS" not in output
    assert tree_digest(course.root / "source") == before["source"]
    assert not list(course.root.rglob(f"planted_{MARK}*"))
    assert not Path(f"/tmp/planted_{MARK}.txt").exists()
    assert scores(course, "gradebook") == FULL_MARKS


def test_no_network_connection_arrives(batch):
    course, _, listener = batch
    assert listener.accepted == 0
    assert "no network: ConnectionRefusedError" in attack_output(course, "network")
    assert scores(course, "network") == FULL_MARKS


def test_no_process_outlives_its_notebook(batch):
    course, _, _ = batch
    assert "left two processes running" in attack_output(course, "background")
    running = subprocess.run(["pgrep", "-f", f"sleep {SLEEP_SECONDS}"], capture_output=True, text=True)
    assert running.stdout == "", f"left running: {running.stdout}"
    assert scores(course, "background") == FULL_MARKS


def test_output_is_cut_to_the_limit_with_one_line(batch):
    course, _, _ = batch
    nb = graded(course, "output")
    cell = next(c for c in nb.cells if "chunk" in c.source)
    kept = sum(len(o.get("text", "")) for o in cell.outputs)
    assert kept < 110_000
    cut_lines = [line for line in text_of(cell).splitlines() if line.startswith("[output cut:")]
    assert len(cut_lines) == 1
    assert cut_lines[0].endswith("more bytes than the 100 kB the grader keeps per cell]")
    assert int(cut_lines[0].split()[2].replace(",", "")) > 49_000_000
    assert course.notebook("autograded", ASSIGNMENT, "output").stat().st_size < 1_000_000
    assert scores(course, "output") == FULL_MARKS


def stopped_outputs(course, student):
    nb = graded(course, student)
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    return nb, tests


def test_memory_hog_stops_the_notebook_and_earlier_tests_keep_their_points(batch):
    course, _, _ = batch
    assert scores(course, "memory") == {**FULL_MARKS, "test_square": (0.0, 2.0, False)}
    nb, tests = stopped_outputs(course, "memory")
    hog = next(c for c in nb.cells if "hog" in c.source)
    assert ("stopped: the notebook used more than 640 MiB of memory, so this cell and the ones "
            "after it score 0.") in text_of(hog)
    assert text_of(tests["test_square"]) == ("not run: the notebook was stopped at an earlier cell "
                                             "because the notebook used more than 640 MiB of memory.")
    feedback = course.root / "feedback" / "memory" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert "used more than 640 MiB of memory" in feedback.read_text()


def test_endless_loop_is_stopped_by_the_notebook_time_limit(batch):
    course, _, _ = batch
    assert scores(course, "loop") == {**FULL_MARKS, "test_square": (0.0, 2.0, False)}
    nb, tests = stopped_outputs(course, "loop")
    loop = next(c for c in nb.cells if "while True" in c.source)
    assert "stopped: the notebook ran longer than the grader's limit of 30 s in total" in text_of(loop)
    assert "not run: the notebook was stopped at an earlier cell" in text_of(tests["test_square"])


def test_loop_that_ignores_the_interrupt_is_stopped_at_the_cell_limit(batch):
    course, _, _ = batch
    assert scores(course, "stubborn") == {**FULL_MARKS, "test_square": (0.0, 2.0, False)}
    nb, tests = stopped_outputs(course, "stubborn")
    loop = next(c for c in nb.cells if "while True" in c.source)
    assert ("stopped: this cell ran longer than the grader's limit of 20 s per cell and did not "
            "stop when interrupted, so this cell and the ones after it score 0.") in text_of(loop)


def test_fork_bomb_hits_the_process_limit(batch):
    course, _, _ = batch
    output = attack_output(course, "forkbomb")
    assert "fork refused after" in output and "BlockingIOError" in output, output
    assert int(output.split("fork refused after")[1].split()[0]) < 64
    assert scores(course, "forkbomb") == FULL_MARKS


def test_huge_file_hits_the_file_size_limit(batch):
    course, _, _ = batch
    assert "write refused: File too large" in attack_output(course, "bigfile")
    assert not list(course.root.rglob("big.bin"))
    assert scores(course, "bigfile") == FULL_MARKS


def test_nothing_of_a_sandbox_is_left_behind(batch):
    _, before, _ = batch
    assert sandbox_leftovers() <= before["sandboxes"]


# --- the interface the grader calls ----------------------------------------------------

def test_execute_returns_the_notebook_run_in_the_sandbox_with_its_files_and_data(tmp_path):
    data = tmp_path / "data.npz"
    data.write_bytes(b"numbers")
    nb = new_notebook(cells=[new_code_cell(
        "import os\nprint(os.getcwd(), sorted(os.listdir('.')), open('notes/a.txt').read())\n"
        "print(open(os.environ['COURSE_DATA'], 'rb').read(), os.getuid())")])
    result = sandbox.execute(nb, limits=sandbox.Limits(threads=1),
                             files={"notes/a.txt": b"hello"}, data_file=data)
    assert result.verdict is None and result.seconds > 0
    assert text_of(result.notebook.cells[0]) == (
        f"{sandbox.WORK} ['notes'] hello\nb'numbers' {sandbox.SANDBOX_UID}\n")
    assert nb.cells[0].outputs == [], "the caller's notebook is left as it was"


def test_the_grader_hands_the_kernel_the_mnist_file_it_finds_itself(tmp_path, monkeypatch):
    """An instructor whose MNIST sits in the Keras cache (no COURSE_DATA) still grades: the
    kernel, which has no network to download it, gets the grader's file."""
    if not OFFLINE_MNIST.is_file():
        pytest.skip("no offline MNIST file on this machine")
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert sandbox.SandboxedExecute().data_file == ""
    cached = tmp_path / "keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.symlink_to(OFFLINE_MNIST)
    assert sandbox.SandboxedExecute().data_file == str(cached)


def test_without_bubblewrap_grading_stops_with_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where bwrap is not installed
    sandbox.check_available.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install -y bubblewrap"):
            sandbox.execute(new_notebook(), limits=sandbox.Limits())
    finally:
        sandbox.check_available.cache_clear()


def test_running_unsandboxed_needs_a_setting_and_warns_every_time(caplog):
    nb = new_notebook(cells=[new_code_cell("print(1 + 1)")])
    with caplog.at_level(logging.WARNING, logger=sandbox.__name__):
        for _ in range(2):
            result = sandbox.execute(nb, limits=sandbox.Limits(sandboxed=False, threads=1))
            assert text_of(result.notebook.cells[0]) == "2\n"
    assert [r.message.startswith("UNSANDBOXED") for r in caplog.records] == [True, True]


def test_plain_nbgrader_validate_runs_in_the_sandbox(tmp_path):
    """`nbgrader validate` (also the Validate button of the instructor's Lab) runs nbgrader's
    own Execute; the course config gives its kernel a sandbox too."""
    (tmp_path / "course").mkdir()
    course = make_course(tmp_path / "course")
    probe = {"nbgrader": {"grade": True, "grade_id": "probe", "locked": True, "points": 1,
                          "schema_version": 3, "solution": False, "task": False}}
    code = (f"import os\nassert os.getuid() != 0, 'runs as root'\n"
            f"assert not os.path.exists({str(course)!r}), 'sees the course folder'\n"
            "assert os.getcwd().endswith('/work'), os.getcwd()")
    nb = new_notebook(cells=[new_code_cell(code, metadata=probe)],
                      metadata=reference().metadata)
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    done = subprocess.run(["nbgrader", "validate", str(path)], cwd=course, capture_output=True,
                          text=True, timeout=300)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr
