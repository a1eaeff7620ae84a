"""What the grading sandbox costs: autograde time of each assignment's reference submission,
in the sandbox and without it (``c.SandboxedExecute.sandboxed = False``, what autograde did
before the sandbox). Goal: at most 10 % or 2 s more per submission.

    .venv/bin/python benchmarks/sandbox_overhead.py [ASSIGNMENT ...] [--repeats N]

Runs alternate (sandboxed, unsandboxed, sandboxed, ...) so a change in machine load hits both;
the table shows the fastest run of each. Times on a busy machine are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from harness import REPO, dataset, require_full_marks, scratch_course

from course_lib.instructor import demo
from course_lib.instructor.course import Course


def autograde_seconds(assignment: str, repeats: int) -> dict[bool, list[float]]:
    """Seconds per autograde of the reference, by whether the sandbox was on."""
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        course = scratch_course(assignment, Path(tmp))
        course.generate(assignment)
        reference = demo.demo_notebooks(course.root, assignment)["reference"]
        course.submit(assignment, "reference", reference)
        for _ in range(repeats):
            for sandboxed in (True, False):
                course.config.SandboxedExecute.sandboxed = sandboxed
                times[sandboxed].append(course.autograde(assignment, "reference"))
                require_full_marks(course, assignment, "reference")
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each kind (default 1)")
    args = parser.parse_args(argv)
    dataset()
    assignments = args.assignments or Course(REPO).assignments()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'assignment':<24} {'sandboxed s':>12} {'unsandboxed s':>14} {'overhead s':>11} {'%':>6}")
    for assignment in assignments:
        times = autograde_seconds(assignment, args.repeats)
        on, off = min(times[True]), min(times[False])
        print(f"{assignment:<24} {on:>12.1f} {off:>14.1f} {on - off:>11.1f} "
              f"{100 * (on - off) / off:>6.1f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
