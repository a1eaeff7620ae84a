"""Where the course kernel shows library messages: on stdout, never on stderr.

nbgrader scores a test cell 0 as soon as anything reaches stderr, so a library's warning
must not cost a student points (e.g. Keras's ``UserWarning`` when a ``Sequential``'s first
``Conv2D`` gets ``input_shape=``, or matplotlib's "building the font cache" log line). The
course kernel loads this module as an IPython extension (see
``course_lib.instructor.kernel``): Python warnings and log records that no handler takes
are printed on stdout instead, in every mode, so students still read them. Lines that C
libraries write straight to the process's stderr (TensorFlow, absl, oneDNN) never reach a
cell at all: the kernel does not capture that file descriptor.
"""

from __future__ import annotations

import logging
import sys
import warnings


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` that prints on stdout (a file given explicitly is honoured)."""
    text = warnings.formatwarning(message, category, filename, lineno, line)
    target = file if file not in (None, sys.stderr, sys.__stderr__) else sys.stdout
    try:
        target.write(text)
    except (AttributeError, OSError):  # a closed or odd stream must never break the cell
        pass


class _StdoutHandler(logging.StreamHandler):
    """A log handler for warnings and worse, on whatever ``sys.stdout`` is when a record
    arrives."""

    def __init__(self):
        super().__init__()
        self.setLevel(logging.WARNING)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def show_on_stdout() -> None:
    """Route Python warnings and log records that reach the root logger to stdout. (The
    root logger gets the handler, so a library's ``logging.basicConfig()``, such as
    ``absl.logging``'s first call, no longer adds one that writes to stderr.)"""
    warnings.showwarning = show_warning
    handler = _StdoutHandler()
    logging.lastResort = handler
    if not any(isinstance(h, _StdoutHandler) for h in logging.root.handlers):
        logging.root.addHandler(handler)


def load_ipython_extension(ipython) -> None:
    """IPython's hook: the course kernel starts with ``--ext=course_lib.kernel_output``."""
    show_on_stdout()
