"""One call that seeds every source of randomness a notebook uses.

While a notebook is graded (``NBGRADER_EXECUTION`` set), the environment variable
``COURSE_GRADING_SEED`` replaces the seed the notebook passes: ``course quality --seeds N``
autogrades the reference under several seeds this way, to show its points do not hang on
one lucky seed. The student's own run ignores it.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

from . import budget

#: In grading runs, a seed that replaces the one the notebook passes to seed_everything.
SEED_VARIABLE = "COURSE_GRADING_SEED"


def seed_everything(seed: int = 42, deterministic: bool = True) -> int:
    """Seed Python, NumPy, and TensorFlow/Keras and PyTorch when they are imported.

    Call it after importing your framework. A framework that is not imported yet is left
    alone, so a PyTorch notebook never loads TensorFlow and vice versa. With
    ``deterministic=True`` the framework is also asked for deterministic kernels, so the
    same seed gives the same model on the same machine. Returns the seed used: in a
    grading run with ``COURSE_GRADING_SEED`` set, that one instead of ``seed``.
    """
    seed = grading_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
        if deterministic and keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
    return seed


def grading_seed(seed: int) -> int:
    """``seed``, or the ``COURSE_GRADING_SEED`` of a grading run."""
    override = os.environ.get(SEED_VARIABLE, "").strip()
    if not override or not budget.grading_mode():
        return seed
    try:
        return int(override)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} should be a whole number, not {override!r}.") from None
