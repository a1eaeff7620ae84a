"""The course kernel keeps library messages out of stderr (nbgrader scores a test cell 0 on
any stderr): a real kernel from a freshly installed kernelspec runs the lines that used to
write there."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course_lib import kernel_output
from course_lib.instructor import kernel
from course_lib.instructor.course import KERNEL_NAME

#: Each cell wrote to stderr in the kernel before: TensorFlow's import (absl's
#: "All log messages before absl::InitializeLog()" and oneDNN's notice), Keras's UserWarning
#: for input_shape= on a Sequential's first layer, a NumPy RuntimeWarning, absl logging.
LIBRARY_CELLS = {
    "tensorflow": "import tensorflow as tf\nimport keras",
    "input_shape": "from keras import layers\n"
                   "model = keras.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28, 1)), "
                   "layers.Flatten(), layers.Dense(10)])",
    "numpy": "import numpy as np\nnp.exp(np.array([1000.0]))",
    "absl": "from absl import logging as absl_logging\nabsl_logging.warning('absl says hello')",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix")
    folder = kernel.install_kernel(str(prefix))
    nb = new_notebook(cells=[new_code_cell(code) for code in LIBRARY_CELLS.values()]
                      + [new_code_cell("import sys\nprint('on purpose', file=sys.stderr)")])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=300).execute()
    return json.loads((Path(folder) / "kernel.json").read_text()), nb


def streams(cell, name):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def test_kernelspec_runs_this_python_with_the_quiet_settings(executed):
    spec, _ = executed
    assert spec["display_name"] == "CNNs on MNIST (course)"
    assert spec["env"] == kernel.KERNEL_ENV
    assert spec["argv"][-len(kernel.KERNEL_ARGUMENTS):] == kernel.KERNEL_ARGUMENTS


def test_library_messages_never_reach_stderr(executed):
    _, nb = executed
    for name, cell in zip(LIBRARY_CELLS, nb.cells):
        assert streams(cell, "stderr") == "", f"{name} wrote to stderr"
    input_shape, numpy_cell, absl_cell = (nb.cells[i] for i in (1, 2, 3))
    assert "UserWarning" in streams(input_shape, "stdout"), "the warning should still be shown"
    assert "RuntimeWarning: overflow" in streams(numpy_cell, "stdout")
    assert "absl says hello" in streams(absl_cell, "stdout")


def test_what_the_student_prints_to_stderr_stays_there(executed):
    _, nb = executed
    assert streams(nb.cells[-1], "stderr") == "on purpose\n"


def test_show_on_stdout_in_this_process(capsys):
    saved = warnings.showwarning, logging.lastResort, list(logging.root.handlers)
    try:
        kernel_output.show_on_stdout()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("shown on stdout", UserWarning, stacklevel=1)
        logging.getLogger("some.library").warning("logged on stdout")
    finally:
        warnings.showwarning, logging.lastResort, logging.root.handlers[:] = saved
    out, err = capsys.readouterr()
    assert "UserWarning: shown on stdout" in out and "logged on stdout" in out
    assert err == ""
