"""PyTorch and Keras helpers live in separate modules: importing one never loads the other."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after_import(modules: list[str]) -> set[str]:
    """Top-level package names in sys.modules after importing ``modules`` in a fresh Python."""
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("module", ["course_lib.torch_data", "course_lib.torch_grading",
                                    "course_lib.torch_function_grading"])
def test_torch_helpers_never_load_tensorflow_or_keras(module):
    loaded = loaded_after_import([module])
    assert "torch" in loaded, f"{module} should be the module that brings in PyTorch."
    assert "tensorflow" not in loaded and "keras" not in loaded


def test_keras_grading_never_loads_torch():
    loaded = loaded_after_import(["course_lib.keras_grading"])
    assert "course_lib" in loaded
    assert "torch" not in loaded and "torchinfo" not in loaded
