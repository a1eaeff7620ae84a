"""nbgrader configuration for the course "CNNs on MNIST".

Paths are relative: nbgrader treats the folder it is started in as the course root, so
run nbgrader commands from this folder (the Makefile and the `course` command do). Course
facts (id, kernel, folders) come from course_lib.instructor.course.
"""

import warnings

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, Execute, GetGrades, IgnorePattern,
                                    LimitOutput, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades)

from course_lib.instructor.course import COURSE_ID, FOLDERS, KERNEL_NAME
from course_lib.instructor.feedback import HideHiddenTests
from course_lib.instructor.integrity import IntegrityScan, WithholdFlagged
from course_lib.instructor.restore_cells import RestoreCellMetadata

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# nbgrader 0.9.6's gradebook triggers SQLAlchemy autoflush warnings on every autograde
# (harmless: the objects are added a line later). Every nbgrader entry point loads this file.
warnings.filterwarnings("ignore", message=r".*not in session, add operation along .* will not proceed")

c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.source_directory = FOLDERS["source"]
c.CourseDirectory.release_directory = FOLDERS["release"]
c.CourseDirectory.submitted_directory = FOLDERS["submitted"]
c.CourseDirectory.autograded_directory = FOLDERS["autograded"]
c.CourseDirectory.feedback_directory = FOLDERS["feedback"]

# Each cell may run this long before nbgrader interrupts it and records a
# CellTimeoutError; grading mode (course_lib.budget) keeps real cells far below it.
c.Execute.timeout = 300
# What the student reads in the feedback for such a cell (nbgrader's default says nothing).
c.Execute.error_on_timeout = {
    "ename": "CellTimeoutError",
    "evalue": "This cell ran longer than the grader's time limit and was stopped, so it scores 0.",
    "traceback": ["CellTimeoutError: This cell ran longer than the grader's time limit and was "
                  "stopped, so it scores 0."],
}
# Validate and autograde run the course's kernel (installed by `make env`): the same Python
# students get in JupyterLab, whatever kernelspec a submitted notebook names.
c.Execute.kernel_name = KERNEL_NAME

# Model weights a notebook saves while it runs (e.g. torch.save to "e2_model.pt" during
# validate or autograde) are never copied into a release, a submission or feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.pt", "*.pth"]

# Feedback shows pass/fail and each test's one-sentence message, never hidden-test code.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]

# Autograde, step 1 (sanitize, before any student code runs): nbgrader's steps, plus the
# course's: grading metadata restored from the gradebook, deleted test cells added back,
# and the integrity scan of every cell the student wrote (see the README, "Integrity scan").
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreCellMetadata, OverwriteCells,
    CheckCellMetadata, IntegrityScan,
]
# Autograde, step 2: run, score, and withhold the points of a submission under review.
c.Autograde.autograde_preprocessors = [
    Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
    CheckCellMetadata, WithholdFlagged,
]
