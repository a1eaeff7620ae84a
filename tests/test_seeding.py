"""course_lib.seeding, and the promise that framework-free modules never load a framework."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from course_lib.seeding import SEED_VARIABLE, seed_everything

FRAMEWORKS = ("tensorflow", "keras", "torch")


def draws():
    return [random.random() for _ in range(3)], np.random.rand(3).tolist(), \
        np.random.randint(0, 1000, 5).tolist()


def test_same_seed_same_draws():
    assert seed_everything(123) == 123
    first = draws()
    seed_everything(123)
    assert draws() == first


def test_different_seed_different_draws():
    seed_everything(1)
    first = draws()
    seed_everything(2)
    assert draws() != first


def test_sets_pythonhashseed(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    seed_everything(7)
    assert os.environ["PYTHONHASHSEED"] == "7"


def test_grading_seed_replaces_the_notebooks_seed_only_while_grading(monkeypatch):
    monkeypatch.setenv(SEED_VARIABLE, "5")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert seed_everything(42) == 42, "the student's own run keeps the notebook's seed"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert seed_everything(42) == 5
    graded = draws()
    monkeypatch.delenv(SEED_VARIABLE)
    seed_everything(5)
    assert draws() == graded
    monkeypatch.setenv(SEED_VARIABLE, "five")
    with pytest.raises(ValueError, match="COURSE_GRADING_SEED should be a whole number"):
        seed_everything(42)


def loaded_frameworks(code: str) -> list[str]:
    """Run ``code`` in a fresh Python and return the frameworks it left in sys.modules."""
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {FRAMEWORKS!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_seed_everything_loads_no_framework():
    assert loaded_frameworks("from course_lib.seeding import SEED_VARIABLE, seed_everything\nseed_everything(3)") == []


def test_framework_free_modules_load_no_framework():
    code = ("import course_lib, course_lib.data, course_lib.plots, course_lib.grading, "
            "course_lib.budget, course_lib.seeding, course_lib.instructor.feedback")
    assert loaded_frameworks(code) == []


def test_seed_everything_seeds_torch_when_imported():
    # also shows the probe sees an imported framework (else the checks above prove nothing)
    code = ("import torch\nfrom course_lib.seeding import SEED_VARIABLE, seed_everything\n"
            "seed_everything(5); a = torch.rand(3).tolist()\n"
            "seed_everything(5); b = torch.rand(3).tolist()\n"
            "assert a == b, (a, b)")
    assert loaded_frameworks(code) == ["torch"]
