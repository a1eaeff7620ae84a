"""nbgrader configuration for the course "CNNs on MNIST".

Paths are relative: nbgrader treats the folder it is started in as the course root, so
run nbgrader commands from this folder (the Makefile and the `course` command do). Course
facts (id, kernel, folders) come from course_lib.instructor.course.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import GetGrades

from course_lib.instructor.course import COURSE_ID, FOLDERS, KERNEL_NAME
from course_lib.instructor.feedback import HideHiddenTests
from course_lib.instructor.sandbox import in_sandbox

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.source_directory = FOLDERS["source"]
c.CourseDirectory.release_directory = FOLDERS["release"]
c.CourseDirectory.submitted_directory = FOLDERS["submitted"]
c.CourseDirectory.autograded_directory = FOLDERS["autograded"]
c.CourseDirectory.feedback_directory = FOLDERS["feedback"]

# Autograde runs every submission in the course's sandbox (course_lib.instructor.sandbox):
# nbgrader's own steps, with its Execute replaced by SandboxedExecute.
c.Autograde.autograde_preprocessors = in_sandbox(
    Autograde.class_traits()["autograde_preprocessors"].default())
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
# Validate and autograde run the course's kernel (installed by `make env`): the same Python
# students get in JupyterLab, whatever kernelspec a submitted notebook names.
c.Execute.kernel_name = KERNEL_NAME

# Model weights a notebook saves while it runs (e.g. torch.save to "e2_model.pt" during
# validate or autograde) are never copied into a release, a submission or feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.pt", "*.pth"]

# Feedback shows pass/fail and each test's one-sentence message, never hidden-test code.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]
