"""Benchmark of the param_budget_cnn assignment.

Prints the autograde wall time of each demo submission (reference, blank, wrong) in a
scratch copy of the course, the reference's per-experiment accuracies from that grading
run (read from the course's training log in the autograded notebook), and the student's
full run: with ``--full`` the reference notebook is executed as a student runs it
(20/20/15 epochs on all training images) and timed; without it, that time is estimated
from one full-data epoch of each reference model.

    python benchmarks/param_budget_cnn.py [--full]

Timings on a shared machine are upper bounds; the kernel CPU seconds (user + system time
of the finished notebook kernel) do not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib.instructor import demo
from course_lib.instructor.course import notebook_path
from harness import REPO, dataset, execute_reference, scratch_course

ASSIGNMENT = "param_budget_cnn"
SUMMARY_ROW = re.compile(r"^\s*(\d) \|\s*([\d,]+) \|[^|]*\|\s*([\d.]+)% \(\s*(\d+)\) \|\s*([\d.]+)% \|"
                         r"\s*([\d.]+)% \|\s*([\d.]+)% \|\s*([+-]?[\d.]+)%", re.MULTILINE)
FULL_EPOCHS = {1: 20, 2: 20, 3: 15}


def printed_text(nb) -> str:
    return "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def report_results(text: str, label: str) -> None:
    """The notebook's summary table (from the course's per-epoch log), re-printed."""
    print(f"\n{label}: test accuracy from the course's per-epoch log")
    print(f"{'experiment':>10} {'parameters':>10} {'best':>7} {'epoch':>5} {'final':>7} {'min last 3':>10} "
          f"{'train':>7} {'gap':>7}")
    for n, p, best, epoch, final, last3, train, gap in SUMMARY_ROW.findall(text):
        print(f"{n:>10} {p:>10} {best:>6}% {epoch:>5} {final:>6}% {last3:>9}% {train:>6}% {gap:>6}%")


def autograde_demo(root: Path) -> None:
    course = scratch_course(ASSIGNMENT, root)
    course.generate(ASSIGNMENT)
    print(f"{'student':<10} {'score':>6} {'max':>5} {'autograde s':>12} {'kernel CPU s':>13}")
    for student, nb in demo.demo_notebooks(course.root, ASSIGNMENT).items():
        course.submit(ASSIGNMENT, student, nb)
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = course.autograde(ASSIGNMENT, student)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        auto = [g for g in course.grades(ASSIGNMENT, student).values() if not g.manual]
        print(f"{student:<10} {sum(g.auto_score or 0 for g in auto):>6g} "
              f"{sum(g.max_score for g in auto):>5g} {seconds:>12.1f} {cpu:>13.1f}", flush=True)
    graded = nbformat.read(course.notebook("autograded", ASSIGNMENT, "reference"), as_version=4)
    report_results(printed_text(graded), "Reference, autograde run")


def full_run() -> None:
    """Execute the reference notebook as a student runs it (no grading budget)."""
    nb, seconds = execute_reference(ASSIGNMENT, timeout=3600)
    print(f"\nStudent full run of the reference notebook: {seconds:.0f} s")
    report_results(printed_text(nb), "Reference, student's full run")


def estimate_full_run() -> None:
    """Time one full-data epoch of each reference model and scale by its epochs."""
    import keras  # noqa: F401  (seed_everything seeds Keras only once it is imported)

    from course_lib import budget, data, keras_training, seeding

    if budget.grading_mode():
        sys.exit("Unset NBGRADER_EXECUTION to estimate the student's full run.")
    source = nbformat.read(REPO / notebook_path("source", ASSIGNMENT), as_version=4)
    namespace = {}
    exec("import keras\nfrom keras import layers\n", namespace)
    for cell in demo.reference_notebook(source).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("build_model_1", "build_model_2", "build_model_3",
                                                                 "recipe_1", "recipe_2"):
            exec(cell.source, namespace)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train, x_test = (data.add_channel_axis(data.scale_01(x)) for x in (x_train, x_test))
    total = 0.0
    for n in (1, 2, 3):
        seeding.seed_everything(42)
        model = namespace[f"build_model_{n}"]()
        batch = namespace.get(f"BATCH_SIZE_{n}", 128)  # the reference's recipe; experiment 3 uses 128
        steps = keras_training.steps_per_epoch(len(x_train), batch)
        optimizer = namespace["make_optimizer_3"](steps, 2) if n == 3 else namespace[f"make_optimizer_{n}"]()
        keras_training.fit_logged(model, optimizer, x_train, y_train, (x_test, y_test), 1, batch)  # tracing
        start = time.perf_counter()
        keras_training.fit_logged(model, model.optimizer, x_train, y_train, (x_test, y_test), 1, batch)
        per_epoch = time.perf_counter() - start
        total += per_epoch * FULL_EPOCHS[n]
        print(f"experiment {n}: {per_epoch:.1f} s per epoch x {FULL_EPOCHS[n]} epochs")
    print(f"Student full run, estimated from one epoch per experiment: {total / 60:.1f} min "
          f"(plus about 10 s for imports and plots)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="execute the full student run (about 10 min)")
    args = parser.parse_args()
    dataset()
    with tempfile.TemporaryDirectory() as tmp:
        autograde_demo(Path(tmp))
    if args.full:
        full_run()
    else:
        estimate_full_run()


if __name__ == "__main__":
    main()
