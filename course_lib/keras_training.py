"""Training with a per-epoch log measured by the course, for Keras notebooks.

:class:`EpochLog` is a Keras callback: after every epoch it measures the model on
held-out data itself (batch by batch, ``training=False``, nothing on stderr), reads the
optimizer's current learning rate, prints one line like

    epoch  3/20 | train loss 0.1234 acc 96.12% | test loss 0.0456 acc 98.76% | lr 0.001000

and keeps every number in ``history`` (a dict of per-epoch lists). :func:`fit_logged`
compiles a model and trains it with that callback. Hidden tests read the callback's
record instead of anything the student printed. Imports Keras (PyTorch notebooks never
import this module).
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from . import budget
from .data import labels_of

LOG_KEYS = ("loss", "accuracy", "test_loss", "test_accuracy", "lr")


def predict_probabilities(model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The model's output for each image, in inference mode (``training=False``).

    Calls the model batch by batch instead of ``model.predict``: no tf.data pipeline, so
    no TensorFlow log lines on stderr, which nbgrader would count as a failed test.
    """
    images = np.asarray(images, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batches = [np.asarray(model(images[i:i + batch_size], training=False))
                   for i in range(0, len(images), batch_size)]
    return np.concatenate(batches) if batches else np.zeros((0, 0), dtype=np.float32)


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000):
    """(mean cross-entropy, accuracy) of ``model`` on held-out data, in inference mode."""
    labels = labels_of(labels)
    if len(images) != len(labels):
        raise ValueError(f"Images and labels should have the same length ({len(images)} vs {len(labels)}).")
    probs = predict_probabilities(model, images, batch_size).astype(np.float64)
    picked = probs[np.arange(len(labels)), labels]
    loss = float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0))))
    return loss, float(np.mean(probs.argmax(axis=1) == labels))


def current_learning_rate(optimizer) -> float:
    """The learning rate the optimizer uses at its current step (schedules evaluated)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class EpochLog(keras.callbacks.Callback):
    """Measures the model on ``test_data`` after each epoch, prints one line, keeps it all."""

    def __init__(self, test_data, print_every: int = 1):
        super().__init__()
        self.x_test, self.y_test = test_data
        self.print_every = print_every
        self.history = {key: [] for key in LOG_KEYS}

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        test_loss, test_acc = evaluate(self.model, self.x_test, self.y_test)
        lr = current_learning_rate(self.model.optimizer)
        for key, value in zip(LOG_KEYS, (logs.get("loss"), logs.get("accuracy"), test_loss, test_acc, lr)):
            self.history[key].append(float(value) if value is not None else float("nan"))
        if (epoch + 1) % self.print_every == 0 or epoch + 1 == self.params.get("epochs"):
            h = self.history
            print(f"epoch {epoch + 1:2d}/{self.params.get('epochs')} | "
                  f"train loss {h['loss'][-1]:.4f} acc {h['accuracy'][-1]:.2%} | "
                  f"test loss {test_loss:.4f} acc {test_acc:.2%} | lr {lr:.6f}", flush=True)


#: BatchNormalization momentum used at most while grading (see :func:`fit_logged`).
GRADING_BATCHNORM_MOMENTUM = 0.9


def _settle_batchnorm_faster(model) -> None:
    """Cap every BatchNormalization layer's momentum at ``GRADING_BATCHNORM_MOMENTUM``."""
    from .keras_layers import is_kind, leaf_layers

    for layer in leaf_layers(model):
        if is_kind(layer, "BatchNormalization") and layer.momentum > GRADING_BATCHNORM_MOMENTUM:
            layer.momentum = GRADING_BATCHNORM_MOMENTUM


def fit_logged(model, optimizer, x_train, y_train, test_data, epochs: int,
               batch_size: int = 128) -> EpochLog:
    """Compile ``model`` (sparse cross-entropy, accuracy) with ``optimizer``, train it
    silently apart from one :class:`EpochLog` line per epoch, and return the log.

    While grading (``budget.grading_mode()``) BatchNormalization layers train with a
    momentum of at most 0.9: the grading run has only 100-400 steps, after which running
    statistics with Keras' default momentum 0.99 are still far from the data's (a correct
    model would then score near chance). The student's own run is unchanged.
    """
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"The optimizer should be a keras.optimizers.Optimizer, "
                        f"but it is {type(optimizer).__name__}.")
    if budget.grading_mode():
        _settle_batchnorm_faster(model)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    log = EpochLog(test_data)
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0,
              callbacks=[log], shuffle=True)
    return log


def steps_per_epoch(samples: int, batch_size: int) -> int:
    """How many optimizer steps one epoch over ``samples`` images takes."""
    return -(-int(samples) // int(batch_size))
