"""Grader quality: does each mistake cost its own points, once, and does every correct
solution earn them all?

``course quality ID`` autogrades, in a scratch copy of the course:

- the reference over N seeds (``COURSE_GRADING_SEED``, see ``course_lib.seeding``): every
  autograded point every time;
- the blank release: 0 points;
- every mutant of ``demo/<id>/mutants.json`` (the reference with one planted mistake and
  the test cells it must lose): *caught* when every listed cell loses points, a *cascade*
  when any other cell does;
- every variant of ``demo/<id>/correct_variants.json`` (another correct solution): every
  autograded point.

It prints a table, writes ``quality/<id>.md`` and fails (exit 1) on a miss, a cascade, a
reference short of full marks, a blank above 0 or a variant short of full marks.

Grading goes through one function with the signature of :func:`serial_autograde`, so a
parallel grader can replace the serial pipeline by changing :data:`AUTOGRADE`.
"""

from __future__ import annotations

import json
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

import nbformat
from nbgrader.utils import setenv

from ..seeding import SEED_VARIABLE
from . import demo
from .course import copy_course, notebook_path
from .pipeline import CellGrade, Pipeline

MUTANTS_FILE = "mutants.json"
VARIANTS_FILE = "correct_variants.json"


class QualityError(ValueError):
    """A mutants or variants file that cannot be used; the message says what to fix."""


# --- what is graded --------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    """The reference with one planted mistake, and the test cells it must lose."""

    name: str
    description: str
    replace: list[tuple[str, str]]
    loses: list[str]
    one_mistake: bool = False

    def notebook(self, reference_nb):
        return _edited(reference_nb, self.name, self.replace)


@dataclass(frozen=True)
class Variant:
    """Another correct solution: the reference with other, equally correct code."""

    name: str
    description: str
    replace: list[tuple[str, str]]

    def notebook(self, reference_nb):
        return _edited(reference_nb, self.name, self.replace)


def _edited(reference_nb, name: str, replace: list[tuple[str, str]]):
    """The reference with ``replace`` applied (``demo.wrong_notebook``: each text found once)."""
    try:
        return demo.wrong_notebook(reference_nb, demo.WrongSubmission(name, replace, []))
    except ValueError as error:
        raise QualityError(f"{name}: {error}") from None


def load_mutants(path: Path) -> list[Mutant]:
    """``demo/<id>/mutants.json``; a ``one_mistake`` mutant must list exactly one cell."""
    if not Path(path).is_file():
        raise QualityError(f"{path} is missing: list the assignment's mutants there (see the README, "
                           f"\"Grader quality\").")
    with _readable(path):
        mutants = [Mutant(m["name"], m["description"], [tuple(pair) for pair in m["replace"]],
                          list(m["loses"]), bool(m.get("one_mistake", False)))
                   for m in json.loads(Path(path).read_text())["mutants"]]
    for mutant in mutants:
        if not mutant.loses:
            raise QualityError(f"{path}: mutant {mutant.name!r} lists no cell it must lose.")
        if mutant.one_mistake and len(mutant.loses) != 1:
            raise QualityError(f"{path}: mutant {mutant.name!r} is one_mistake, so it must list exactly "
                             f"one cell, not {mutant.loses}.")
    _unique_names(path, [m.name for m in mutants])
    return mutants


def load_variants(path: Path) -> list[Variant]:
    """``demo/<id>/correct_variants.json`` (no file: no variants)."""
    if not Path(path).is_file():
        return []
    with _readable(path):
        variants = [Variant(v["name"], v["description"], [tuple(pair) for pair in v["replace"]])
                    for v in json.loads(Path(path).read_text())["variants"]]
    _unique_names(path, [v.name for v in variants])
    return variants


@contextmanager
def _readable(path: Path):
    """Turn a malformed file into one sentence naming it."""
    try:
        yield
    except (ValueError, KeyError, TypeError) as error:
        raise QualityError(f"{path} does not follow the format in the README (\"Grader quality\"): "
                           f"{type(error).__name__} {error}.") from None


def _unique_names(path: Path, names: list[str]) -> None:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise QualityError(f"{path}: these names occur more than once: {twice}.")


@dataclass(frozen=True)
class Submission:
    """One notebook to autograde and what it must score."""

    student: str            # the nbgrader student id in the scratch course
    kind: str               # "reference", "blank", "mutant" or "variant"
    name: str               # what the table calls it
    notebook: object
    seed: int | None = None  # COURSE_GRADING_SEED for this run (None: the notebook's own)
    loses: tuple[str, ...] = ()
    one_mistake: bool = False


# --- what came out ---------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """The autograded cells of one submission, and the verdict on them."""

    submission: Submission
    grades: Mapping[str, CellGrade]
    seconds: float

    @property
    def max_points(self) -> float:
        return sum(g.max_score for g in self.grades.values())

    @property
    def lost(self) -> dict[str, float]:
        """{cell: points lost} for every autograded cell short of its maximum."""
        return {name: g.max_score - (g.auto_score or 0) for name, g in self.grades.items()
                if (g.auto_score or 0) < g.max_score}

    @property
    def missed(self) -> list[str]:
        """Cells a mutant should lose but did not."""
        return [cell for cell in self.submission.loses if cell not in self.lost]

    @property
    def cascade(self) -> list[str]:
        """Cells a mutant lost besides the ones it should."""
        return [cell for cell in self.lost if cell not in self.submission.loses]

    @property
    def ok(self) -> bool:
        kind = self.submission.kind
        if kind == "blank":
            return sum(self.lost.values()) == self.max_points
        if kind == "mutant":
            return not self.missed and not self.cascade
        return not self.lost  # reference and variants: every point

    @property
    def verdict(self) -> str:
        kind = self.submission.kind
        if kind == "blank":
            return "0 points" if self.ok else f"{self.max_points - sum(self.lost.values()):g} points, should be 0"
        if kind == "mutant":
            caught = "caught" if not self.missed else f"MISSED ({', '.join(self.missed)})"
            cascade = "no cascade" if not self.cascade else f"CASCADE ({', '.join(self.cascade)})"
            return f"{caught}, {cascade}"
        return "full marks" if self.ok else "SHORT of full marks"


@dataclass
class Report:
    assignment: str
    seeds: int
    only: list[str] | None = None
    baseline: bool = True
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def rows(self) -> list[tuple[str, ...]]:
        """(kind, name, points lost, cells that lost points, verdict, seconds) per submission."""
        rows = []
        for o in self.outcomes:
            s = o.submission
            name = s.name + (" (one mistake)" if s.one_mistake else "")
            cells = ", ".join(o.lost) if len(o.lost) < len(o.grades) or not o.lost else "every test cell"
            rows.append((s.kind, name, f"{sum(o.lost.values()):g} / {o.max_points:g}", cells or "-",
                         o.verdict, f"{o.seconds:.0f}"))
        return rows

    def summary(self) -> str:
        def of(kind: str) -> list[Outcome]:
            return [o for o in self.outcomes if o.submission.kind == kind]

        mutants, references, variants = of("mutant"), of("reference"), of("variant")
        blank = "0 points" if all(o.ok for o in of("blank")) else "ABOVE 0"
        baseline = (f"reference full marks in {sum(o.ok for o in references)} of {len(references)} "
                    f"seeds; blank {blank}; " if self.baseline else "")
        return (f"{self.assignment}: {baseline}"
                f"mutants caught {sum(not o.missed for o in mutants)} of {len(mutants)}, "
                f"cascades {sum(bool(o.cascade) for o in mutants)}; "
                f"correct variants full marks {sum(o.ok for o in variants)} of {len(variants)}; "
                f"{'OK' if self.ok else 'FAILED'} ({self.seconds:.0f} s)")

    def table(self) -> str:
        header = ("kind", "submission", "points lost", "cells that lost points", "result", "s")
        rows = [header] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)

    def markdown(self, descriptions: Mapping[str, str]) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        options = (f" --only {' '.join(self.only)}" if self.only else "") + \
                  ("" if self.baseline else " --no-baseline")
        lines = [f"# Grader quality: {self.assignment}", "",
                 f"`course quality {self.assignment} --seeds {self.seeds}{options}`, "
                 f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {self.seconds:.0f} s in all.", "",
                 f"**{self.summary()}**", "",
                 "| kind | submission | points lost | cells that lost points | result | autograde s |",
                 "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in self.rows()]
        if descriptions:
            lines += ["", "## Mutants and variants", ""]
            lines += [f"- **{name}**: {text}" for name, text in descriptions.items()]
        return "\n".join(lines) + "\n"


# --- grading ---------------------------------------------------------------------------

#: ``autograde(course, assignment, notebooks, environment) -> {student: seconds}``: hand in
#: each notebook as that student and autograde it with ``environment`` set for the run.
Autograde = Callable[[Pipeline, str, Mapping[str, object], Mapping[str, str]], dict[str, float]]


def serial_autograde(course: Pipeline, assignment: str, notebooks: Mapping[str, object],
                     environment: Mapping[str, str]) -> dict[str, float]:
    """The serial pipeline: nbgrader autogrades one submission after the other in this
    process, whose environment the kernel inherits."""
    seconds = {}
    with setenv(**environment):
        for student, nb in notebooks.items():
            print(f"   autograde {student} ...", flush=True)
            course.submit(assignment, student, nb)
            seconds[student] = course.autograde(assignment, student)
    return seconds


#: The grader quality uses; a parallel grader with the same signature replaces it here.
AUTOGRADE: Autograde = serial_autograde


def submissions(course: Pipeline, assignment: str, seeds: int,
                mutants: list[Mutant], variants: list[Variant], baseline: bool = True) -> list[Submission]:
    """Everything to grade: the reference per seed and the blank release (the baseline),
    mutants, variants."""
    source = nbformat.read(course.notebook("source", assignment), as_version=4)
    reference = demo.reference_notebook(source)
    found = []
    if baseline:
        blank = nbformat.read(course.notebook("release", assignment), as_version=4)
        found = [Submission(f"reference-{i}", "reference",
                            "reference (notebook's seed)" if seed is None else f"reference (seed {seed})",
                            reference, seed) for i, seed in enumerate(reference_seeds(seeds))]
        found.append(Submission("blank", "blank", "blank release", blank))
    found += [Submission(f"mutant-{i:02d}", "mutant", m.name, m.notebook(reference),
                         loses=tuple(m.loses), one_mistake=m.one_mistake)
              for i, m in enumerate(mutants, 1)]
    found += [Submission(f"variant-{i:02d}", "variant", v.name, v.notebook(reference))
              for i, v in enumerate(variants, 1)]
    return found


def reference_seeds(count: int) -> list[int | None]:
    """The notebook's own seed, then grading seeds 1, 2, ... (``count`` runs in all)."""
    return [None] + list(range(1, max(count, 1)))


def evaluate(course: Pipeline, assignment: str, todo: list[Submission],
             autograde: Autograde | None = None) -> list[Outcome]:
    """Autograde every submission (one batch per environment) and judge the results."""
    autograde = autograde or AUTOGRADE
    seconds: dict[str, float] = {}
    for seed in dict.fromkeys(s.seed for s in todo):
        environment = {} if seed is None else {SEED_VARIABLE: str(seed)}
        batch = {s.student: s.notebook for s in todo if s.seed == seed}
        seconds.update(autograde(course, assignment, batch, environment))
    outcomes = []
    for s in todo:
        grades = {name: g for name, g in course.grades(assignment, s.student).items() if not g.manual}
        unknown = [cell for cell in s.loses if cell not in grades]
        if unknown:
            raise QualityError(f"Mutant {s.name!r} lists {unknown}, which are not autograded test cells "
                             f"of {assignment}.")
        outcomes.append(Outcome(s, grades, seconds[s.student]))
    return outcomes


def run_quality(root: str | Path, assignment: str, seeds: int = 1, only: list[str] | None = None,
                scratch: str | Path | None = None, autograde: Autograde | None = None,
                baseline: bool = True) -> Report:
    """The whole check of one assignment in a scratch copy of the course at ``root``;
    ``only`` picks mutants and variants by name (default: all); ``baseline=False`` skips
    the reference and the blank release (for a sample when the lifecycle tests grade those)."""
    root = Path(root).resolve()
    if not (root / notebook_path("source", assignment)).is_file():
        raise FileNotFoundError(f"{root} has no assignment {assignment!r} in source/.")
    mutants = load_mutants(root / "demo" / assignment / MUTANTS_FILE)
    variants = load_variants(root / "demo" / assignment / VARIANTS_FILE)
    if only:
        unknown = sorted(set(only) - {m.name for m in mutants} - {v.name for v in variants})
        if unknown:
            raise QualityError(f"No mutant or variant of {assignment} is called {unknown}.")
        mutants = [m for m in mutants if m.name in only]
        variants = [v for v in variants if v.name in only]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"quality-{assignment}-") as temporary:
        course = Pipeline(copy_course(root, Path(scratch or temporary), [assignment]).root)
        course.generate(assignment)
        report = Report(assignment, seeds, only, baseline)
        report.outcomes = evaluate(course, assignment,
                                   submissions(course, assignment, seeds, mutants, variants, baseline),
                                   autograde)
    report.seconds = time.perf_counter() - start
    return report


def write_report(report: Report, root: str | Path) -> Path:
    """``quality/<id>.md`` in the course folder, with each mutant's and variant's description."""
    root = Path(root)
    descriptions = {m.name: m.description for m in load_mutants(root / "demo" / report.assignment / MUTANTS_FILE)}
    descriptions.update({v.name: v.description
                         for v in load_variants(root / "demo" / report.assignment / VARIANTS_FILE)})
    path = root / "quality" / f"{report.assignment}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(report.markdown(descriptions))
    return path


def add_arguments(parser) -> None:
    parser.add_argument("assignment", metavar="ID", help="the assignment id")
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="grade the reference N times: with the notebook's own seed, then with "
                             "COURSE_GRADING_SEED 1 .. N-1 (default: 1)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="grade only these mutants and variants (default: all of them)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the reference and the blank release, e.g. for a sample of "
                             "mutants when the lifecycle tests already grade those two")
    parser.add_argument("--scratch", metavar="DIR",
                        help="grade in this folder and keep it (default: a temporary folder)")


def command(args) -> int:
    """``course quality``."""
    report = run_quality(args.root, args.assignment, args.seeds, args.only, args.scratch,
                         baseline=args.baseline)
    print(report.table())
    print(f"\n{report.summary()}")
    print(f"Report: {write_report(report, args.root)}")
    return 0 if report.ok else 1
