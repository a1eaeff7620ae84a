"""nbgrader configuration for the course "CNNs on MNIST".

Paths are relative: nbgrader treats the folder it is started in as the course root, so
run nbgrader commands from this folder (the Makefile and the `course` command do). Course
facts (id, kernel, folders) come from course_lib.instructor.course.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

from course_lib.instructor.course import COURSE_ID, FOLDERS, KERNEL_NAME
from course_lib.instructor import feedback

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

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

# Feedback names each test and shows its pass/fail, points and one-sentence message, never
# test code or test output; written answers nobody has graded say so (course_lib.instructor.feedback).
c.GenerateFeedback.preprocessors = [feedback.GetGradesAndStatus, CSSHTMLHeaderPreprocessor,
                                    feedback.HideHiddenTests, feedback.TestVerdicts]
# Rendered by the course's template, which extends nbgrader's feedback template. Set for
# GenerateFeedback's exporter only: the formgrader's pages keep nbgrader's own templates.
c.GenerateFeedback.HTMLExporter.template_name = "feedback"
c.GenerateFeedback.HTMLExporter.template_file = feedback.TEMPLATE_FILE
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = feedback.template_basedirs()
