"""One call that seeds every source of randomness a notebook uses."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int = 42, deterministic: bool = True) -> int:
    """Seed Python, NumPy, and TensorFlow/Keras and PyTorch when they are imported.

    Call it after importing your framework. A framework that is not imported yet is left
    alone, so a PyTorch notebook never loads TensorFlow and vice versa. With
    ``deterministic=True`` the framework is also asked for deterministic kernels, so the
    same seed gives the same model on the same machine. Returns the seed.
    """
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
