"""The course's Jupyter kernel: the environment's own Python under one name, so JupyterLab's
Run All, Validate and autograde all run the same interpreter (``make env`` installs it)."""

from __future__ import annotations

import sys

from ipykernel.kernelspec import install

from .course import KERNEL_DISPLAY_NAME, KERNEL_NAME

#: Set in every kernel: TensorFlow's C++ logging off (nbgrader scores a test cell 0 when
#: anything reaches stderr).
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def install_kernel(prefix: str = sys.prefix) -> str:
    """Install the kernelspec into ``prefix`` (the virtual environment); returns its folder."""
    return install(kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME, prefix=prefix,
                   env=dict(KERNEL_ENV))


def run(args) -> int:
    """``course kernel``."""
    print(f"Installed kernelspec {KERNEL_NAME} in {install_kernel()}")
    return 0
