"""nbgrader configuration for the course "CNNs on MNIST".

Paths are relative: nbgrader treats the folder it is started in as the course root, so
run nbgrader commands from this folder (the Makefile and the `course` command do). Course
facts (id, kernel, folders) come from course_lib.instructor.course.
"""

import warnings

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, Execute, IgnorePattern,
                                    LimitOutput, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades)

from course_lib.instructor import feedback
from course_lib.instructor.course import COURSE_ID, FOLDERS, KERNEL_NAME
from course_lib.instructor.integrity import IntegrityScan, WithholdFlagged
from course_lib.instructor.restore_cells import RestoreCellMetadata
from course_lib.instructor.sandbox import in_sandbox

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

# Each cell may run this long; then the grader interrupts it and it scores 0 with the sentence
# "This cell ran longer than the grader's time limit (5 minutes per cell) and was stopped, so
# it scores 0." A cell that ignores the interrupt stops the notebook: it and the cells after it
# score 0, each with one sentence saying why. Grading mode (course_lib.budget) keeps real
# cells far below the limit.
c.Execute.timeout = 300
# The sandbox's other limits (README, "The sandbox"; these are the defaults):
c.SandboxedExecute.notebook_timeout = 600        # seconds for the whole notebook
c.SandboxedExecute.memory_limit = 4 * 1024 ** 3  # bytes: kernel and every process it starts
c.SandboxedExecute.output_limit = 1000 ** 2      # bytes of output kept per cell
# c.SandboxedExecute.process_limit = 512         # processes and threads at once
# c.SandboxedExecute.file_size_limit = 1024 ** 3 # largest file a notebook may write
# c.SandboxedExecute.threads = 0                 # maths-library threads; 0 = one per core
# c.SandboxedExecute.sandboxed = False           # NOT for strangers' code: no isolation
# Plain `nbgrader validate` (and the instructor Lab's Validate button) run nbgrader's own
# Execute, whose kernel this manager starts in a sandbox too.
c.Execute.kernel_manager_class = "course_lib.instructor.sandbox.ValidationKernelManager"
# Validate and autograde run the course's kernel (installed by `make env`): the same Python
# students get in JupyterLab, whatever kernelspec a submitted notebook names.
c.Execute.kernel_name = KERNEL_NAME

# Model weights a notebook saves while it runs (e.g. torch.save to "e2_model.pt" during
# validate or autograde) are never copied into a release, a submission or feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.pt", "*.pth"]

# Feedback names each test and shows its pass/fail, points and one-sentence message, never
# test code or test output; written answers nobody has graded say so (course_lib.instructor.feedback).
c.GenerateFeedback.preprocessors = [feedback.GetGradesAndStatus, CSSHTMLHeaderPreprocessor,
                                    feedback.HideHiddenTests, feedback.TestVerdicts]
# Rendered by the course's template, which extends nbgrader's feedback template. Set for
# GenerateFeedback's exporter only: the formgrader's pages keep nbgrader's own templates.
c.GenerateFeedback.HTMLExporter.template_name = feedback.TEMPLATE_NAME
c.GenerateFeedback.HTMLExporter.template_file = feedback.TEMPLATE_FILE
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = feedback.template_basedirs()

# Autograde, step 1 (sanitize, before any student code runs): nbgrader's steps, plus the
# course's: grading metadata restored from the gradebook, deleted test cells added back,
# and the integrity scan of every cell the student wrote (see the README, "Integrity scan").
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreCellMetadata, OverwriteCells,
    CheckCellMetadata, IntegrityScan,
]
# Autograde, step 2: nbgrader's steps, with its Execute replaced by the course's
# SandboxedExecute (every submission runs in the sandbox, see the README, "The sandbox"),
# then the points of a submission under review withheld.
c.Autograde.autograde_preprocessors = in_sandbox([
    Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]) + [WithholdFlagged]
