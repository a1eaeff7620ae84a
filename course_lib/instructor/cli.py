"""The ``course`` command: one subcommand per instructor task.

Run it from the course folder (the one holding ``nbgrader_config.py``) or pass ``--root``.
Every subcommand explains itself with ``--help``.
"""

from __future__ import annotations

import argparse
import sys

from . import kernel, lab, pipeline

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
    except (pipeline.PipelineError, lab.LabError, FileNotFoundError) as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
