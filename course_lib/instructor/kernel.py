"""The course's Jupyter kernel: the environment's own Python under one name, so JupyterLab's
Run All, Validate and autograde all run the same interpreter (``make env`` installs it).

nbgrader scores a test cell 0 when anything reaches stderr, so the kernel keeps library
chatter out of the cells: TensorFlow's C++ logging is off, lines that C libraries write to
the process's stderr (absl's "All log messages before absl::InitializeLog()", oneDNN's
notice) stay in the kernel's own log instead of being forwarded into the running cell,
and Python warnings are shown on stdout (``course_lib.kernel_output``).
"""

from __future__ import annotations

import shutil
import sys

from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager

from .course import KERNEL_DISPLAY_NAME, KERNEL_NAME

#: Set in every kernel: TensorFlow's C++ logging off.
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}
#: ipykernel options of every kernel: leave file descriptor 2 (C libraries' stderr) alone,
#: and load the extension that shows Python warnings on stdout.
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False", "--ext=course_lib.kernel_output"]


def install_kernel(prefix: str = sys.prefix) -> str:
    """Install the kernelspec into ``prefix`` (the virtual environment); returns its folder.
    (ipykernel's ``install`` takes no kernel arguments, so the spec is written here.)"""
    staged = write_kernel_spec(
        overrides={"display_name": KERNEL_DISPLAY_NAME, "env": dict(KERNEL_ENV)},
        extra_arguments=list(KERNEL_ARGUMENTS),
        python_arguments=["-Xfrozen_modules=off"])  # as ipykernel's install: debugger-friendly
    try:
        return KernelSpecManager().install_kernel_spec(staged, kernel_name=KERNEL_NAME,
                                                       prefix=prefix)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def run(args) -> int:
    """``course kernel``."""
    print(f"Installed kernelspec {KERNEL_NAME} in {install_kernel()}")
    return 0
