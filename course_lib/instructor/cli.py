"""The ``course`` command: one subcommand per instructor task.

Run it from the course folder (the one holding ``nbgrader_config.py``) or pass ``--root``.
Every subcommand explains itself with ``--help``.
"""

from __future__ import annotations

import argparse
import sys

from . import grader, kernel, lab, pipeline, quality

DESCRIPTION = """Instructor tools for the nbgrader course "CNNs on MNIST".
Each subcommand is one task; add --help after it for its options."""


def _with_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".",
                        help="the course folder, holding nbgrader_config.py (default: .)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="run the whole instructor pipeline on the bundled demo submissions",
        description="Generate each release, hand in the demo students' notebooks (reference, "
                    "blank, wrong), autograde them, write feedback, export grades.csv and the "
                    "peer-review PDFs, then print a summary table.")
    demo.add_argument("assignments", nargs="*", metavar="ID",
                      help="assignment ids (default: every assignment in source/)")
    _with_root(demo)
    demo.set_defaults(run=pipeline.demo_command)

    autograde = sub.add_parser(
        "autograde", help="autograde a whole class at once, in parallel or on a Dask cluster",
        description="Autograde every submitted notebook of one assignment concurrently: each "
                    "runs in the sandbox on a Dask worker, and this process records exactly what "
                    "`nbgrader autograde` records (per-cell scores, autograded/, timestamps, late "
                    "and manual-grading flags). Submissions already graded are skipped, so an "
                    "interrupted run is resumed by running the same command again. Exit status 1 "
                    "when any submission could not be graded.")
    autograde.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment id")
    autograde.add_argument("--students", nargs="+", metavar="STUDENT",
                           help="grade only these students (default: every submission)")
    where = autograde.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of the local cluster started for this run "
                            "(default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="use the running Dask cluster at this address (e.g. "
                            "tcp://grader.example.org:8786) instead of a local one")
    autograde.add_argument("--db", metavar="URL",
                           help="the gradebook's database URL, e.g. postgresql://user@host/gradebook "
                                "(default: nbgrader's db_url, sqlite gradebook.db in the course)")
    autograde.add_argument("--force", action="store_true",
                           help="regrade submissions that are already graded")
    autograde.add_argument("--feedback", action="store_true",
                           help="also generate each graded student's feedback")
    _with_root(autograde)
    autograde.set_defaults(run=grader.autograde_command)

    review = sub.add_parser(
        "peer-review", help="anonymous PDFs of every submission of one assignment",
        description="Print each submitted notebook (never the autograded copy) to an anonymous "
                    "PDF in peer_review/ID/, with key.csv mapping codes to students (keep it to "
                    "yourself). With --reviewers K, each student reviews K others: "
                    "allocation.csv and one folder per reviewer to hand out.")
    review.add_argument("assignment", metavar="ID", help="the assignment id")
    review.add_argument("--reviewers", type=int, default=0, metavar="K",
                        help="give each submission to K other students: writes allocation.csv "
                             "(reviewer, code) and reviewers/<student>/ with the PDFs to read "
                             "and a review form for each (default: 0, PDFs only)")
    review.add_argument("--seed", type=int, default=0, metavar="S",
                        help="the same seed gives the same allocation (default: 0)")
    _with_root(review)
    review.set_defaults(run=pipeline.peer_review_command)

    lab_cmd = sub.add_parser(
        "lab", help="JupyterLab for the instructor and a student on this machine",
        description="Start JupyterLab servers on 127.0.0.1 for the instructor (the course "
                    "folder) and a student (a workspace of their own) sharing one nbgrader "
                    "exchange. Ctrl-C stops them.")
    lab.add_arguments(lab_cmd)
    lab_cmd.set_defaults(run=lab.run)

    quality_cmd = sub.add_parser(
        "quality", help="check that the grader catches each mistake once and passes correct work",
        description="In a scratch copy of the course, autograde the reference (over --seeds "
                    "seeds), the blank release, every mutant of demo/ID/mutants.json and every "
                    "correct variant of demo/ID/correct_variants.json; print a table, write "
                    "quality/ID.md and exit 1 on a missed mistake, a cascade into other cells, a "
                    "reference or variant short of full marks, or a blank above 0.")
    quality.add_arguments(quality_cmd)
    _with_root(quality_cmd)
    quality_cmd.set_defaults(run=quality.command)

    kernel_cmd = sub.add_parser(
        "kernel", help="install the course's Jupyter kernel into this environment",
        description="Install the kernelspec students, Validate and autograde use (make env "
                    "runs this once).")
    kernel_cmd.set_defaults(run=kernel.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (pipeline.PipelineError, grader.GraderError, lab.LabError, quality.QualityError,
            FileNotFoundError) as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
