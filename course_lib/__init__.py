"""Helpers for the nbgrader course "CNNs on MNIST", grouped by who uses them.

Import the module you need; none imports a deep-learning framework unless its name says
so, and Keras modules never load PyTorch (nor the reverse).

What notebooks import while a student works (never grading or instructor code):

- ``data``: find, check and load MNIST; shaping helpers; labels and confusion counts.
- ``torch_data``: MNIST as PyTorch tensors and seeded DataLoaders (imports PyTorch).
- ``plots``: matplotlib figures for the notebooks (each returns a Figure).
- ``seeding``: one call that seeds Python, NumPy and the frameworks already imported.
- ``budget``: smaller training runs while nbgrader grades (``NBGRADER_EXECUTION``).
- ``curves``: seeded synthetic loss curves of six training problems (NumPy only).
- ``keras_training``: batched inference, a per-epoch test log and ``fit_logged`` (Keras).
- ``keras_layers``: a Keras model's layers through nested blocks, its augmentation layers.
- ``kernel_output``: an IPython extension the course kernel loads: Python warnings and log
  records shown on stdout, so nothing but the student's own code writes to stderr.

What hidden tests call: checks that measure the student's code themselves and fail with
one plain sentence:

- ``grading``: framework-free checks and per-variant thresholds.
- ``keras_grading``: Keras models (layers, parameters, compile settings, accuracy).
- ``keras_graph``: parallel branches meeting in a Concatenate (PA4's inception block).
- ``scripted_epochs``: drives Keras callbacks with scripted epoch logs (PA4).
- ``training_dynamics_grading``: PA4's checks and its stand-in ``train_model_with_config``.
- ``torch_grading``: PyTorch models (forward-pass tracing, dropout, accuracy, weights).
- ``torch_function_grading``: the student's PyTorch ``train_epoch``, ``evaluate`` and
  penalties, on tiny models with known answers.

The instructor's tools live in ``course_lib.instructor`` (the ``course`` command); nothing
above imports them.
"""

__version__ = "0.1.0"
