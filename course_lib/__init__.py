"""Helpers for the nbgrader course "CNNs on MNIST".

Modules (import the one you need; none of them imports a deep-learning framework
unless its name says so):

- ``data``: find, check and load MNIST; shaping helpers.
- ``plots``: matplotlib figures for the notebooks.
- ``seeding``: one call that seeds Python, NumPy and the framework you use.
- ``budget``: smaller training runs while nbgrader grades (``NBGRADER_EXECUTION``).
- ``curves``: seeded synthetic loss curves of six training problems (NumPy only).
- ``grading``: checks the hidden tests use (framework-free); ``keras_grading`` for Keras.
- ``torch_data`` and ``torch_grading``: MNIST tensors and DataLoaders, and the hidden-test
  checks, for PyTorch notebooks (import torch; never TensorFlow or Keras).
- ``pipeline``: the instructor pipeline (generate, autograde, feedback, grades, PDFs).
"""

__version__ = "0.1.0"
