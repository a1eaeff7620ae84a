"""A whole class: serial `nbgrader autograde` against `course autograde` with 1 and 2 workers.

    python benchmarks/class_autograde.py [--diagnostics 24] [--lab7 8] [--workers 1 2] [--no-serial]

A synthetic class of training_diagnostics and lab7_cnn_mnist submissions (cycling through
the demo's reference, blank and wrong notebooks) is graded from scratch in a fresh copy of
the course, once per mode:

- serial: nbgrader's own autograde, one student after the other (what `nbgrader autograde`
  does; the course's nbgrader_config runs each one in the sandbox too);
- course autograde with N workers: a local Dask cluster of N processes, as
  `course autograde ID --workers N` starts it (one batch per assignment, on one cluster).

It prints, per mode: wall time (cluster start included), submissions per minute, the
speedup over serial, and Dask's overhead per task from its own task stream: the time a
worker held the task outside the sandbox, and the gap between one task's end and the next
task's start on a worker with work waiting. Goals (issue 12): >= 1.6x serial with 2 workers
on 2 cores, overhead < 1 s per task. Last, an estimate for 500 students on ten 8-core
workers from the measured per-submission costs.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from harness import REPO, dataset, require_full_marks
from sqlalchemy.exc import SAWarning

from course_lib.instructor import demo
from course_lib.instructor.course import copy_course
from course_lib.instructor.grader import ClassGrader, dask_client
from course_lib.instructor.pipeline import Pipeline

ASSIGNMENTS = ("training_diagnostics", "lab7_cnn_mnist")


def make_class(folder: Path, sizes: dict[str, int]) -> Pipeline:
    """A fresh course with ``sizes[id]`` submissions per assignment, students s000, s001, ..."""
    course = Pipeline(copy_course(REPO, folder, list(sizes)).root)
    for assignment, size in sizes.items():
        course.generate(assignment)
        notebooks = demo.demo_notebooks(course.root, assignment)
        for i, (kind, nb) in zip(range(size), itertools.cycle(notebooks.items())):
            course.submit(assignment, f"s{i:03d}-{kind}", nb)
    return course


def check_references(course: Pipeline, sizes: dict[str, int]) -> None:
    """Every reference copy in the class earned full marks (else the timing is of failures)."""
    for assignment in sizes:
        for student in course.submitted_students(assignment):
            if student.endswith("-reference"):
                require_full_marks(course, assignment, student)


def serial(sizes: dict[str, int]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        course = make_class(Path(tmp), sizes)
        start, per_submission = time.perf_counter(), {}
        for assignment in sizes:
            per_submission[assignment] = [course.autograde(assignment, s)
                                          for s in course.submitted_students(assignment)]
        check_references(course, sizes)
        return {"wall": time.perf_counter() - start, "per_submission": per_submission}


def parallel(sizes: dict[str, int], workers: int) -> dict:
    from distributed import get_task_stream

    with tempfile.TemporaryDirectory() as tmp:
        course = make_class(Path(tmp), sizes)
        start = time.perf_counter()
        with dask_client(workers) as client:
            started = time.perf_counter() - start
            outcomes = {}
            with get_task_stream(client) as stream:
                for assignment in sizes:
                    grader = ClassGrader(course.root, assignment)
                    outcomes[assignment] = grader.run(client, grader.students())
        wall = time.perf_counter() - start
        check_references(course, sizes)
    failed = [o for batch in outcomes.values() for o in batch if o.failed]
    if failed:
        raise SystemExit(f"{len(failed)} submission(s) failed: " + "\n".join(o.reason for o in failed))
    sandbox = {f"autograde-{a}-{o.student}": o.seconds for a, batch in outcomes.items() for o in batch}
    held, gaps = [], []
    tasks = sorted((t for t in stream.data if t["key"].startswith("autograde-")),
                   key=lambda t: t["startstops"][0]["start"])
    by_worker: dict[str, list] = {}
    for task in tasks:
        compute = next(s for s in task["startstops"] if s["action"] == "compute")
        key = task["key"].rsplit("-", 1)[0]
        held.append(compute["stop"] - compute["start"] - sandbox[key])
        by_worker.setdefault(task["worker"], []).append(compute)
    for computes in by_worker.values():
        gaps += [b["start"] - a["stop"] for a, b in zip(computes, computes[1:])]
    return {"wall": wall, "cluster_start": started, "held": held, "gaps": gaps,
            "sandbox": {a: [o.seconds for o in batch] for a, batch in outcomes.items()},
            "coordinator": [o.coordinator for batch in outcomes.values() for o in batch]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diagnostics", type=int, default=24, help="training_diagnostics submissions")
    parser.add_argument("--lab7", type=int, default=8, help="lab7_cnn_mnist submissions")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-serial", action="store_true", help="skip serial nbgrader autograde")
    args = parser.parse_args()
    dataset()
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader 0.9.6's autoflush noise
    sizes = {a: n for a, n in zip(ASSIGNMENTS, (args.diagnostics, args.lab7)) if n}
    total = sum(sizes.values())
    print(f"class: {sizes} ({total} submissions)", flush=True)

    results = {}
    header = (f"{'mode':<30} {'wall s':>8} {'subm/min':>9} {'speedup':>8} {'held s/task':>12} "
              f"{'gap s/task':>11} {'cluster start s':>16}")

    def row(mode: str, r: dict) -> None:
        """One line of the table, printed as soon as the mode is measured."""
        base = results.get("serial nbgrader", {}).get("wall")
        speedup = f"{base / r['wall']:.2f}x" if base else "-"
        held = f"{statistics.mean(r['held']):.2f}" if r.get("held") else "-"
        gaps = f"{statistics.mean(r['gaps']):.2f}" if r.get("gaps") else "-"
        start = f"{r['cluster_start']:.1f}" if "cluster_start" in r else "-"
        print(f"{header}\n{mode:<30} {r['wall']:>8.0f} {60 * total / r['wall']:>9.1f} {speedup:>8} "
              f"{held:>12} {gaps:>11} {start:>16}", flush=True)

    if not args.no_serial:
        results["serial nbgrader"] = serial(sizes)
        for assignment, times in results["serial nbgrader"]["per_submission"].items():
            print(f"serial {assignment}: {statistics.mean(times):.1f} s per submission", flush=True)
        row("serial nbgrader", results["serial nbgrader"])
    for workers in args.workers:
        mode = f"course autograde --workers {workers}"
        results[mode] = r = parallel(sizes, workers)
        for assignment, times in r["sandbox"].items():
            print(f"--workers {workers} {assignment}: {statistics.mean(times):.1f} s per submission "
                  f"in the sandbox, coordinator {statistics.mean(r['coordinator']):.2f} s",
                  flush=True)
        row(mode, r)

    # 500 students on ten 8-core workers: 80 one-thread tasks at once, each as long as a
    # submission took here with one thread per kernel (the --workers run with the most workers);
    # the coordinator prepares and scores one after the other, overlapping with execution.
    widest = results[f"course autograde --workers {max(args.workers)}"]
    per = {a: statistics.mean(t) for a, t in widest["sandbox"].items()}
    coordinator = statistics.mean(widest["coordinator"])
    overhead = statistics.mean(widest["held"]) + (statistics.mean(widest["gaps"]) if widest["gaps"] else 0)
    for assignment, seconds in per.items():
        execution = 500 * (seconds + overhead) / 80
        print(f"\nestimate, 500 students of {assignment} on 10 x 8 cores: execution "
              f"{execution / 60:.1f} min (500 x {seconds + overhead:.1f} s / 80 slots); coordinator "
              f"{500 * coordinator / 60:.1f} min (500 x {coordinator:.2f} s, overlapping); "
              f"about {max(execution, 500 * coordinator) / 60 + 1:.0f} min with start-up")


if __name__ == "__main__":
    main()
