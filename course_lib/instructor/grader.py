"""A whole class at once: ``course autograde`` on a Dask cluster, nothing lost.

nbgrader's autograde sanitizes a submission, executes it and scores it, one student after
another. Here the same converter is split where execution happens:

- the coordinator (this process, trusted, the only one touching the gradebook and the
  course folder) runs nbgrader's own steps up to execution: the submission record and
  timestamp, the source files copied in, ``sanitize_preprocessors`` and any
  ``autograde_preprocessors`` configured before the execution step;
- a Dask worker executes the prepared notebook in the sandbox and returns it executed
  (it never sees the gradebook, ``source/`` or another student);
- the coordinator scores it with the ``autograde_preprocessors`` after the execution step
  (LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata, ...) and writes
  ``autograded/<student>/<id>/`` as ``nbgrader autograde`` does.

A submission counts as graded when every notebook is in ``autograded/`` with the same
``timestamp.txt`` as the submission and the gradebook holds the submission with that
timestamp; the notebook is written last, atomically, after its grades are committed. So an
interrupted batch run again grades only what is missing, and a worker killed mid-batch only
delays its submissions: Dask runs them again on another worker, and the coordinator
writes grades from complete results only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from dask.system import cpu_count  # honours CPU affinity and cgroup quotas
from nbconvert.preprocessors import ExecutePreprocessor
from nbconvert.writers import FilesWriter
from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde
from nbgrader.utils import rmtree, setenv, temp_attrs
from traitlets.utils.importstring import import_item

from .. import data
from . import integrity, sandbox
from .course import KERNEL_NAME, Course

log = logging.getLogger(__name__)


class GraderError(RuntimeError):
    """The batch cannot start (no such assignment or student, no execution step)."""


# --- what travels to a worker and back ------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One prepared submission: everything a worker needs, nothing more."""

    student: str
    notebooks: dict[str, str]  # notebook id -> prepared notebook (JSON, hidden tests inside)
    files: dict[str, bytes]  # the submission's other files and the source files, by relative path
    limits: sandbox.Limits  # threads decided on the worker unless configured
    kernel_name: str = KERNEL_NAME
    data_file: str | None = None  # the dataset as the course configures it
    threads_by_host: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Executed:
    """What a worker returns: the executed notebooks and the sandbox's verdicts."""

    notebooks: dict[str, str]
    verdicts: dict[str, str | None]
    seconds: float
    worker: str


def execute_job(job: Job) -> Executed:
    """The Dask task: run each prepared notebook of one submission in the sandbox."""
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    limits = job.limits
    if not limits.threads:
        threads = job.threads_by_host.get(get_address_host(worker.address))
        limits = dataclasses.replace(limits, threads=threads or max(1, cpu_count() // worker.state.nthreads))
    notebooks, verdicts, seconds = {}, {}, 0.0
    with setenv(NBGRADER_EXECUTION="autograde"):  # as nbgrader's autograde sets it
        for name, text in job.notebooks.items():
            result = sandbox.execute(nbformat.reads(text, as_version=4), limits=limits,
                                     files=job.files, data_file=_worker_data_file(job.data_file),
                                     kernel_name=job.kernel_name)
            notebooks[name] = nbformat.writes(result.notebook)
            verdicts[name] = result.verdict
            seconds += result.seconds
    return Executed(notebooks, verdicts, seconds, worker.address)


def _worker_data_file(configured: str | None) -> Path | None:
    """The dataset on this worker: the course's path, or else this worker's COURSE_DATA (a
    cluster's machines may keep it elsewhere). Missing, it fails the task instead of letting
    every test score 0."""
    if not configured:
        return None
    for candidate in (configured, os.environ.get(data.ENV_VAR)):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(f"This worker has no dataset at {configured} and no "
                            f"{data.ENV_VAR} set; start its `dask worker` with {data.ENV_VAR} "
                            "pointing at the course's data file.")


# --- the coordinator's half of nbgrader's autograde ------------------------------------------

class ClassAutograde(Autograde):
    """nbgrader's Autograde converter, split where execution happens: :meth:`prepare` runs
    its steps before the execution step, :meth:`score` those after it. Configured exactly
    as ``nbgrader autograde`` (``c.Autograde.*`` in ``nbgrader_config.py``)."""

    def __init__(self, assignment: str, **kwargs):
        super().__init__(**kwargs)
        self.assignment = assignment
        steps = [import_item(s) if isinstance(s, str) else s for s in self.autograde_preprocessors]
        execution = [i for i, step in enumerate(steps) if issubclass(step, ExecutePreprocessor)]
        if len(execution) != 1:
            raise GraderError("c.Autograde.autograde_preprocessors must hold exactly one "
                              f"execution step; it holds {len(execution)}.")
        self.before_execution = steps[:execution[0]]
        self.after_execution = steps[execution[0] + 1:]
        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)
        #: the execution step as configured: what the workers do instead, with its settings
        self.execution = steps[execution[0]](parent=self.exporter)
        self.kernel_name = getattr(self.execution, "kernel_name", "") or KERNEL_NAME

    # where things are
    def submitted(self, student: str) -> str:
        return self.coursedir.format_path(self.coursedir.submitted_directory, student, self.assignment)

    def autograded(self, student: str) -> str:
        return self.coursedir.format_path(self.coursedir.autograded_directory, student, self.assignment)

    def submitted_notebooks(self, student: str) -> list[str]:
        return sorted(glob.glob(os.path.join(self.submitted(student), f"{self.coursedir.notebook_id}.ipynb")))

    def is_graded(self, student: str, gradebook) -> bool:
        """Every notebook autograded, from this very submission, and in this gradebook."""
        source, dest = self.submitted(student), self.autograded(student)
        notebooks = self.submitted_notebooks(student)
        if not notebooks or not all(os.path.isfile(os.path.join(dest, os.path.basename(nb)))
                                    for nb in notebooks):
            return False
        timestamp = self.coursedir.get_existing_timestamp(source)
        if self.coursedir.get_existing_timestamp(dest) != timestamp:
            return False
        try:
            recorded = gradebook.find_submission(self.assignment, student).timestamp
        except MissingEntry:
            return False
        return timestamp is None or recorded == timestamp

    def prepare(self, student: str) -> dict[str, str]:
        """nbgrader's autograde up to execution; returns {notebook id: prepared notebook JSON}.
        Leaves the source files and the submission's other files in ``autograded/``."""
        with temp_attrs(self.coursedir, assignment_id=self.assignment, student_id=student):
            self.notebooks = self.submitted_notebooks(student)
            dest = self.autograded(student)
            if os.path.exists(dest):  # regrade from scratch, as `nbgrader autograde --force`
                rmtree(dest)
            self.run_pre_convert_hook()
            self.init_assignment(self.assignment, student)  # gradebook records, files copied
            prepared = {}
            for path in self.notebooks:
                sanitized, _ = self._run(self.sanitize_preprocessors, nbformat.read(path, as_version=4),
                                         path)
                with setenv(NBGRADER_EXECUTION="autograde"):
                    ready, _ = self._run(self.before_execution, sanitized, path)
                prepared[Path(path).stem] = nbformat.writes(ready)
            return prepared

    def files(self, student: str) -> dict[str, bytes]:
        """The files nbgrader placed next to the notebook (what its kernel would see)."""
        return sandbox.submission_files(Path(self.autograded(student)))

    @property
    def limits(self) -> sandbox.Limits:
        """The sandbox limits as configured for the execution step (``c.SandboxedExecute``)."""
        return getattr(self.execution, "limits", None) or sandbox.Limits()

    @property
    def data_file(self) -> str | None:
        """The dataset as the sandbox step has it (configured, else found on this machine)."""
        return getattr(self.execution, "data_file", None) or None

    def score(self, student: str, executed: dict[str, str]) -> dict[str, nbformat.NotebookNode]:
        """nbgrader's autograde after execution: grades into the gradebook, then each
        autograded notebook written atomically. Returns the autograded notebooks."""
        with temp_attrs(self.coursedir, assignment_id=self.assignment, student_id=student):
            self.notebooks = self.submitted_notebooks(student)
            graded = {}
            for path in self.notebooks:
                name = Path(path).stem
                with setenv(NBGRADER_EXECUTION="autograde"):
                    nb, resources = self._run(self.after_execution,
                                              nbformat.reads(executed[name], as_version=4), path)
                self._write_atomically(nb, resources)
                graded[name] = nb
            self.set_permissions(self.assignment, student)
            self.run_post_convert_hook()
            return graded

    def discard(self, student: str) -> None:
        """Remove what a failed or unfinished submission left in ``autograded/`` (as
        nbgrader does for a failed one); its old grades stay in the gradebook."""
        dest = self.autograded(student)
        if os.path.exists(dest):
            rmtree(dest)

    def _run(self, steps, nb, path: str):
        """Some of nbgrader's preprocessors on one notebook, with the resources nbgrader
        gives them; returns the notebook (as nbgrader would read it back) and resources."""
        self.exporter._preprocessors = []
        for step in steps:
            self.exporter.register_preprocessor(step)
        resources = self.init_single_notebook_resources(path)
        resources["metadata"] = {"name": Path(path).stem, "path": self.autograded(resources["nbgrader"]["student"])}
        output, resources = self.exporter.from_notebook_node(nb, resources=resources)
        return nbformat.reads(output, as_version=4), resources

    def _write_atomically(self, nb, resources) -> None:
        dest = Path(self.autograded(resources["nbgrader"]["student"]))
        final = dest / f"{resources['unique_key']}.ipynb"
        partial = dest / f".{resources['unique_key']}.partial"
        dest.mkdir(parents=True, exist_ok=True)
        partial.write_text(nbformat.writes(nb))
        os.replace(partial, final)


# --- a batch ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    """How one submission went: what the summary table shows."""

    student: str
    status: str  # "graded", "already graded", "failed"
    score: float | None = None
    max_score: float | None = None
    seconds: float | None = None  # in the sandbox
    verdicts: list[str] = field(default_factory=list)
    late: bool = False
    needs_manual_grade: bool = False
    unsandboxed: bool = False
    review: list[dict] = field(default_factory=list)
    notes: list = field(default_factory=list)
    reason: str = ""
    worker: str = ""
    wall: float | None = None  # from handing the job to Dask to its result being back
    coordinator: float = 0.0  # seconds this process spent preparing and scoring it

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def add_integrity(self, nb) -> None:
        """The integrity scan's findings recorded in an autograded notebook."""
        found = integrity.findings_of(nb)
        self.review += found.get("review", [])
        self.notes += found.get("notes", [])


@dataclass
class Batch:
    assignment: str
    outcomes: list[Outcome]
    seconds: float
    workers: int

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]


def default_workers() -> int:
    return cpu_count()


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A client of the cluster at ``scheduler``, or of a local cluster of ``workers``
    one-task processes started here and stopped on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout=60) as client:
            try:
                client.wait_for_workers(1, timeout=120)
            except TimeoutError:
                raise GraderError(f"The Dask scheduler at {scheduler} has no workers; start some "
                                  "with `dask worker " + scheduler + "` (README, \"Grading a whole "
                                  "class\").") from None
            yield client
        return
    with LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                      processes=True, dashboard_address=None, memory_limit=0,
                      silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        yield client


def threads_per_kernel(client) -> dict[str, int]:
    """{host: threads each sandboxed kernel may use}: the host's cores over the tasks its
    workers run at once, so kernels on one machine do not fight over cores."""
    from distributed.comm import get_address_host

    cores = client.run(cpu_count)
    slots, host_cores = defaultdict(int), {}
    for address, info in client.scheduler_info()["workers"].items():
        host = get_address_host(address)
        slots[host] += info["nthreads"]
        host_cores[host] = cores.get(address, 1)
    return {host: max(1, host_cores[host] // slots[host]) for host in slots}


class _Collect(logging.Handler):
    """Keeps nbgrader's warnings and errors about the submission being handled."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"[{record.levelname}] {record.getMessage()}")

    def take(self) -> str:
        text, self.lines = "\n".join(self.lines), []
        return text


class ClassGrader:
    """One assignment of one course: which submissions are missing, and grading them on a
    Dask client (prepare and score here, execute on the workers)."""

    def __init__(self, root: str | Path, assignment: str, *, db_url: str | None = None,
                 feedback: bool = False):
        self.course = Course(root)
        if db_url:
            self.course.config.CourseDirectory.db_url = db_url
            self.course.api.coursedir.db_url = db_url
        if assignment not in self.course.assignments():
            raise GraderError(f"No assignment {assignment!r} in {self.course.root / 'source'}.")
        self.assignment, self.feedback = assignment, feedback
        self.log = _Collect()
        nblog = logging.getLogger(f"course.autograde.{id(self)}")
        nblog.propagate = False
        nblog.addHandler(self.log)
        self.converter = ClassAutograde(assignment, coursedir=self.course.api.coursedir,
                                        parent=self.course.api, log=nblog)
        with self.course.api.gradebook as gradebook:
            try:
                gradebook.find_assignment(assignment)
            except MissingEntry:
                raise GraderError(f"The gradebook ({self.course.api.coursedir.db_url}) has no "
                                  f"assignment {assignment!r}; run `nbgrader generate_assignment "
                                  f"{assignment}` with this gradebook first.") from None

    def students(self, wanted: list[str] | None = None) -> list[str]:
        """The students to consider: ``wanted`` or everyone who submitted, less nbgrader's
        ``c.CourseDirectory.student_id_exclude``."""
        excluded = set(filter(None, self.course.api.coursedir.student_id_exclude.split(",")))
        submitted = [s for s in self.course.submitted_students(self.assignment) if s not in excluded]
        unknown = sorted(set(wanted or []) - set(submitted))
        if unknown:
            raise GraderError(f"No submission of {self.assignment} for: {', '.join(unknown)}.")
        return sorted(wanted) if wanted else submitted

    def graded(self, students: list[str]) -> set[str]:
        """Those whose submission, as it is now, is already autograded."""
        with self.course.api.gradebook as gradebook:
            return {s for s in students if self.converter.is_graded(s, gradebook)}

    def run(self, client, students: list[str], on_outcome=lambda outcome: None) -> list[Outcome]:
        """Grade ``students`` on ``client``'s cluster; each outcome is also passed to
        ``on_outcome`` as it comes. Interrupted, it leaves nothing half-done in autograded/."""
        from distributed import as_completed

        threads = threads_per_kernel(client)
        limits, data_file = self.converter.limits, self.converter.data_file
        outcomes, pending = [], {}
        finished = as_completed()

        def done(outcome: Outcome) -> None:
            outcomes.append(outcome)
            on_outcome(outcome)

        def collect(futures) -> None:
            for future in futures:
                student, handed_at, preparing = pending.pop(future)
                began = time.perf_counter()
                outcome = self._score(student, future, handed_at)
                outcome.coordinator = preparing + time.perf_counter() - began
                done(outcome)

        cwd = os.getcwd()
        os.chdir(self.course.root)  # nbgrader's converters run from the course root
        try:
            for student in students:
                began = time.perf_counter()
                try:
                    job = Job(student, self.converter.prepare(student), self.converter.files(student),
                              limits, self.converter.kernel_name, data_file, threads)
                except Exception as error:  # unreadable, metadata nbgrader refuses, ...
                    self.converter.discard(student)
                    done(Outcome(student, "failed", reason=self._reason("preparing it failed", error)))
                    continue
                self.log.take()
                future = client.submit(execute_job, job, pure=False,
                                       key=f"autograde-{self.assignment}-{student}-{time.time_ns()}")
                pending[future] = (student, time.perf_counter(), time.perf_counter() - began)
                finished.add(future)
                collect(finished.next_batch(block=False))  # score what is back meanwhile
            collect(finished)
        except BaseException:
            for student, *_ in pending.values():
                self.converter.discard(student)
            raise
        finally:
            os.chdir(cwd)
        return outcomes

    def _score(self, student: str, future, handed_at: float) -> Outcome:
        """Score one finished task (or record why it failed), then its feedback if asked."""
        try:
            executed: Executed = future.result()
        except Exception as error:  # sandbox refused, worker died too often, ...
            self.converter.discard(student)
            return Outcome(student, "failed", reason=self._reason("executing it failed", error))
        outcome = Outcome(student, "graded", seconds=executed.seconds, worker=executed.worker,
                          wall=time.perf_counter() - handed_at,
                          verdicts=[v for v in executed.verdicts.values() if v],
                          unsandboxed=not self.converter.limits.sandboxed)
        try:
            graded = self.converter.score(student, executed.notebooks)
        except Exception as error:
            self.converter.discard(student)
            outcome.status, outcome.reason = "failed", self._reason("scoring it failed", error)
            return outcome
        self.log.take()
        for nb in graded.values():
            outcome.add_integrity(nb)
        if self.feedback:
            result = self.course.api.generate_feedback(self.assignment, student, force=True)
            if not result.get("success"):
                outcome.status = "failed"
                outcome.reason = ("graded, but writing its feedback failed:\n"
                                  + (result.get("log") or result.get("error", "")))
        return outcome

    def fill_in(self, outcomes: list[Outcome]) -> None:
        """Scores and flags from the gradebook and the autograded notebooks."""
        with self.course.api.gradebook as gradebook:
            for outcome in outcomes:
                if outcome.failed:
                    continue
                try:
                    submission = gradebook.find_submission(self.assignment, outcome.student)
                except MissingEntry:
                    continue
                outcome.score, outcome.max_score = submission.score, submission.max_score
                outcome.late = bool(submission.total_seconds_late and submission.total_seconds_late > 0)
                outcome.needs_manual_grade = submission.needs_manual_grade
                if outcome.status == "already graded":
                    for path in Path(self.converter.autograded(outcome.student)).glob("*.ipynb"):
                        outcome.add_integrity(nbformat.read(path, as_version=4))

    def _reason(self, what: str, error: BaseException) -> str:
        log_text = self.log.take()
        return f"{what}: {type(error).__name__}: {error}" + (f"\n{log_text}" if log_text else "")


def grade_class(root: str | Path, assignment: str, students: list[str] | None = None, *,
                workers: int | None = None, scheduler: str | None = None, db_url: str | None = None,
                force: bool = False, feedback: bool = False, progress: bool = True) -> Batch:
    """Autograde the submissions of ``assignment`` that are missing (all with ``force``) on
    a Dask cluster: a local one of ``workers`` processes, or the one at ``scheduler``."""
    from tqdm.auto import tqdm

    start = time.perf_counter()
    grader = ClassGrader(root, assignment, db_url=db_url, feedback=feedback)
    students = grader.students(students)
    done = set() if force else grader.graded(students)
    todo = [s for s in students if s not in done]
    if not grader.converter.limits.sandboxed:
        print("course autograde: UNSANDBOXED: student code runs with the grader's own rights "
              "(c.SandboxedExecute.sandboxed = False).", file=sys.stderr)
    outcomes = [Outcome(s, "already graded") for s in sorted(done)]
    workers_seen = 0
    if todo:
        bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="submission",
                   disable=not progress, file=sys.stderr)
        failed = 0

        def show(outcome: Outcome) -> None:
            nonlocal failed
            failed += outcome.failed
            bar.update(1)
            bar.set_postfix_str(f"graded {bar.n - failed}, failed {failed}, left {bar.total - bar.n}")

        try:
            with dask_client(workers, scheduler) as client:
                workers_seen = len(client.scheduler_info()["workers"])
                outcomes += grader.run(client, todo, show)
        finally:
            bar.close()
    grader.fill_in(outcomes)
    order = {s: i for i, s in enumerate(students)}
    return Batch(assignment, sorted(outcomes, key=lambda o: order[o.student]),
                 time.perf_counter() - start, workers_seen)


# --- what a person watching reads --------------------------------------------------------------

def print_summary(batch: Batch, out=sys.stdout) -> None:
    """The table (student, score, seconds, status, flags) and every failure with its reason."""
    rows = [("student", "score", "seconds", "status", "flags")]
    for o in batch.outcomes:
        score = "" if o.score is None else f"{o.score:g} / {o.max_score:g}"
        seconds = "" if o.seconds is None else f"{o.seconds:.1f}"
        status = "; ".join([o.status, *o.verdicts] + ["late"] * o.late
                           + ["needs manual grading"] * o.needs_manual_grade
                           + ["UNSANDBOXED"] * o.unsandboxed)
        flags = "; ".join([f"REVIEW {r.get('cell')}: {r.get('reason')}" for r in o.review]
                          + ([f"{len(o.notes)} note(s)"] if o.notes else []))
        rows.append((o.student, score, seconds, status, flags))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4], file=out)
    graded = sum(o.status == "graded" for o in batch.outcomes)
    skipped = sum(o.status == "already graded" for o in batch.outcomes)
    print(f"\n{batch.assignment}: {graded} graded, {skipped} already graded, "
          f"{len(batch.failures)} failed in {batch.seconds:.0f} s"
          + (f" on {batch.workers} worker(s)" if batch.workers else ""), file=out)
    for o in batch.failures:
        print(f"\nFAILED {o.student}: {o.reason}", file=out)


def autograde_command(args) -> int:
    """``course autograde``: exit status 1 when any submission could not be graded."""
    try:
        batch = grade_class(args.root, args.assignment, args.students, workers=args.workers,
                            scheduler=args.scheduler, db_url=args.db, force=args.force,
                            feedback=args.feedback)
    except KeyboardInterrupt:
        print("\ncourse autograde: interrupted; what was graded is kept. Run the same command "
              "again to grade the rest.", file=sys.stderr)
        return 130
    print_summary(batch)
    return 1 if batch.failures else 0
