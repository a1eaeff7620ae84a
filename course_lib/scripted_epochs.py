"""Drive a Keras callback through scripted epochs, without training (for hidden tests).

A test writes the logs each epoch should report, e.g. ``[{"val_loss": 0.9}, {"val_loss":
0.8}, ...]``, and :func:`drive` calls the callback's hooks in the order ``model.fit``
does, on a tiny compiled model. Before each epoch the model's weights are all set to the
epoch number, so after the run the weights say which epoch's weights the model holds
(that is how a test sees whether the best weights were restored). Imports Keras
(PyTorch notebooks never import this module).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from .keras_training import current_learning_rate


@dataclass
class ScriptedRun:
    """What happened: epochs run, whether the callback stopped training, the logs after the
    callback saw them, the optimizer's learning rate during each epoch, and the epoch whose
    weights the model holds at the end."""

    epochs_run: int = 0
    stopped: bool = False
    logs: list[dict] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    weights_from_epoch: int | None = None


def tiny_model(learning_rate: float = 0.1):
    """A compiled two-input, one-output Dense model (SGD): cheap to build, no training."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def drive(callback, epoch_logs: Sequence[Mapping[str, float]], model=None) -> ScriptedRun:
    """Run ``callback`` through one epoch per entry of ``epoch_logs``, like ``fit`` would:
    ``on_train_begin``, then per epoch ``on_epoch_begin`` / ``on_epoch_end`` (stopping as
    soon as ``model.stop_training`` is set), then ``on_train_end``."""
    model = model if model is not None else tiny_model()
    run = ScriptedRun()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        callback.set_model(model)
        model.stop_training = False
        callback.on_train_begin({})
        for epoch, scripted in enumerate(epoch_logs):
            model.set_weights([np.full(w.shape, epoch, dtype=w.dtype) for w in model.get_weights()])
            logs = dict(scripted)
            callback.on_epoch_begin(epoch, logs)
            run.learning_rates.append(current_learning_rate(model.optimizer))
            callback.on_epoch_end(epoch, logs)
            run.logs.append(logs)
            run.epochs_run = epoch + 1
            if model.stop_training:
                run.stopped = True
                break
        callback.on_train_end({})
        run.weights_from_epoch = int(round(float(model.get_weights()[0].flat[0])))
    return run
