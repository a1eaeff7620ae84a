"""Hidden-test checks used by PA4 (CNN training dynamics) only. Imports Keras.

The student's training function is probed on tiny models (which optimizer, learning
rate, loss, batch size and callbacks it really used); the grader's own training function
stands in for it where a later part needs one, so one mistake is counted once. Model
checks read every layer (nested blocks opened up, see ``keras_graph.flat_layers``) and
measure the output instead of demanding one idiom: ``input_shape=`` on the first layer,
``keras.Input``, ``Dense(10, activation='softmax')`` or ``Dense(10)`` + ``Softmax`` all pass.
Building and training happen with Python warnings caught, so nothing reaches stderr
(nbgrader scores a test cell 0 on any stderr).
"""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np

from . import keras_graph
from .grading import expect
from .keras_grading import loss_name
from .keras_training import current_learning_rate, predict_probabilities

OPTIMIZERS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
              "rmsprop": keras.optimizers.RMSprop, "adagrad": keras.optimizers.Adagrad}
INPUT_SHAPE = (None, 28, 28, 1)


def quietly(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with Python warnings (e.g. Keras's ``input_shape``
    UserWarning) kept off stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def probe_model():
    """A tiny uncompiled classifier for probing a training function (trains in milliseconds)."""
    return quietly(lambda: keras.Sequential([keras.Input(shape=INPUT_SHAPE[1:]), keras.layers.Flatten(),
                                             keras.layers.Dense(10, activation="softmax")]))


def stand_in_train_model_with_config(model, X_train, y_train, X_val, y_val, optimizer_name,
                                     learning_rate, batch_size, epochs, callbacks=None, verbose=0):
    """The course's ``train_model_with_config``: the grader's stand-in for a student's
    function that failed its own test."""
    if optimizer_name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {optimizer_name!r}; use one of {sorted(OPTIMIZERS)}.")
    model.compile(optimizer=OPTIMIZERS[optimizer_name](learning_rate=learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return quietly(model.fit, X_train, y_train, validation_data=(X_val, y_val), batch_size=batch_size,
                   epochs=epochs, callbacks=list(callbacks or []), verbose=verbose)


class _EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


def check_train_function(train, X_train, y_train, X_val, y_val) -> None:
    """``train`` (the student's ``train_model_with_config``) compiles with the named
    optimizer class and learning rate, categorical cross-entropy and accuracy, and trains
    with the given batch size, epochs, validation data and callbacks; an unknown optimizer
    name raises a ValueError that names it."""
    expect(callable(train), "train_model_with_config should be a function.")
    # epochs=0 compiles without training (fast); the others train briefly
    for name, lr, batch, epochs in (("sgd", 0.05, 16, 2), ("adam", 0.002, 24, 0),
                                    ("rmsprop", 0.003, 48, 1), ("adagrad", 0.04, 16, 0)):
        model, recorders = probe_model(), [_EpochRecorder(), _EpochRecorder()]
        history = quietly(train, model, X_train[:48], y_train[:48], X_val[:16], y_val[:16], name, lr, batch,
                          epochs, callbacks=recorders)
        wanted = OPTIMIZERS[name].__name__
        used = type(getattr(model, "optimizer", None)).__name__
        expect(used == wanted, f"optimizer_name={name!r} should compile with keras.optimizers.{wanted}, "
                               f"but the model uses {used}.")
        rate = current_learning_rate(model.optimizer)
        expect(math.isclose(rate, lr, rel_tol=1e-5),
               f"learning_rate={lr} should be the optimizer's learning rate, but it is {rate:g}.")
        expect(loss_name(model.loss) == "categorical_crossentropy",
               f"Compile with the categorical cross-entropy loss (one-hot labels), not {loss_name(model.loss)!r}.")
        expect(isinstance(history, keras.callbacks.History),
               "train_model_with_config should return the History that fit returns.")
        expect(history.params.get("epochs") == epochs, "Train for the given number of epochs.")
        expect(all(r.epochs == list(range(epochs)) for r in recorders),
               "Pass the callbacks on to fit: each callback should see every epoch.")
        if epochs:
            expect({"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history),
                   "The history should hold loss, accuracy, val_loss and val_accuracy "
                   "(compile with metrics=['accuracy'] and pass validation_data).")
            steps = math.ceil(48 / batch)
            expect(history.params.get("steps") == steps,
                   f"Train with batch_size={batch}: that is {steps} steps per epoch on 48 images, "
                   f"but your training used {history.params.get('steps')}.")
    try:
        quietly(train, probe_model(), X_train[:32], y_train[:32], X_val[:16], y_val[:16], "momentum", 0.01, 32, 1)
    except ValueError as error:
        expect("momentum" in str(error), "The ValueError for an unknown optimizer should name it.")
    else:
        raise AssertionError("An unknown optimizer name such as 'momentum' should raise a ValueError.")


def train_function_problem(train, X_train, y_train, X_val, y_val) -> str | None:
    """What :func:`check_train_function` finds wrong with ``train`` (its one-sentence
    message), or None when it passes: a test decides on a stand-in with it."""
    try:
        check_train_function(train, X_train, y_train, X_val, y_val)
    except Exception as error:  # noqa: BLE001 - any failure of the student's function counts
        if isinstance(error, AssertionError):
            return str(error)
        detail = f" ({error})" if str(error) else ""
        return f"train_model_with_config raised {type(error).__name__}{detail}."
    return None


def check_classifier(model, images: np.ndarray, what: str) -> None:
    """An uncompiled model for (28, 28, 1) images with at least one Conv2D layer (nested
    blocks included) whose outputs are probabilities over the 10 digits (a softmax)."""
    expect(isinstance(model, keras.Model), f"{what} should return a Keras model, not {type(model).__name__}.")
    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError):
        shape = None
    expect(shape == INPUT_SHAPE, f"{what}'s input shape should be (None, 28, 28, 1), not {shape}: start with "
                                 "keras.Input(shape=(28, 28, 1)) or give input_shape=(28, 28, 1) to the first layer.")
    found = [type(layer).__name__ for layer in keras_graph.flat_layers(model)]
    expect("Conv2D" in found, f"{what} should contain at least one Conv2D layer; its layers are {', '.join(found)}.")
    outputs = predict_probabilities(model, images[:16])
    expect(outputs.shape == (min(16, len(images)), 10),
           f"{what} should output 10 class probabilities per image, not shape {outputs.shape[1:]}.")
    expect(bool(np.all(outputs >= 0)) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3),
           f"{what} should end in a softmax over the 10 classes (e.g. Dense(10, activation='softmax')): "
           "its outputs should be probabilities that sum to 1.")
    expect(not model.compiled, f"{what}: return the model uncompiled; train_model_with_config compiles it.")


def check_inception_module(model) -> None:
    """A Functional model with an inception module: a Concatenate on the channel axis fed by
    at least 3 parallel branches from one tensor holding 1x1, 3x3 and 5x5 convolutions and
    a pooling layer, every branch layer with ``padding='same'``."""
    expect(not isinstance(model, keras.Sequential),
           "Build this model with the Functional API, not keras.Sequential.")
    modules = keras_graph.parallel_branches(model)
    expect(any(len(m.branches) >= 3 for m in modules),
           "The inception module needs at least 3 parallel branches that start from the same tensor and meet "
           "in one Concatenate layer; your branches " + ("run one after another." if modules else "were not found."))
    module = max(modules, key=lambda m: len(m.branches))
    expect(module.concat.axis in (-1, 3), "Concatenate the branches on the channel axis (axis=-1).")
    kernels = {tuple(layer.kernel_size) for layer in module.layers if isinstance(layer, keras.layers.Conv2D)}
    expect({(1, 1), (3, 3), (5, 5)} <= kernels,
           f"The branches should hold 1x1, 3x3 and 5x5 convolutions; they hold {sorted(kernels)}.")
    expect(any(isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D))
               for layer in module.layers),
           "One branch should start with a 3x3 pooling layer (strides=1, padding='same').")
    valid = [layer.name for layer in module.layers if getattr(layer, "padding", "same") != "same"]
    expect(not valid, f"Every branch layer should use padding='same'; these do not: {valid}.")
