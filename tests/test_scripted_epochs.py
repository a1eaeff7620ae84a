"""course_lib.scripted_epochs drives callbacks exactly like fit, checked on Keras's own."""

from __future__ import annotations

import keras
import pytest

from course_lib import scripted_epochs


def losses(*values):
    return [{"val_loss": v} for v in values]


def test_keras_early_stopping_stops_after_patience_epochs_and_restores_the_best():
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2,
                                             restore_best_weights=True)
    run = scripted_epochs.drive(callback, losses(1.0, 0.5, 0.7, 0.6, 0.4, 0.3))
    assert run.stopped and run.epochs_run == 4        # best at epoch 1, two worse epochs
    assert run.weights_from_epoch == 1


def test_without_a_stop_every_epoch_runs_and_the_last_weights_stay():
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    run = scripted_epochs.drive(callback, losses(1.0, 0.9, 0.8))
    assert not run.stopped and run.epochs_run == 3 and run.weights_from_epoch == 2
    assert [log["val_loss"] for log in run.logs] == [1.0, 0.9, 0.8]


def test_learning_rates_are_read_from_the_optimizer_during_each_epoch():
    callback = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    run = scripted_epochs.drive(callback, losses(1.0, 1.0, 1.0, 1.0))
    assert run.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])
    assert [log["learning_rate"] for log in run.logs] == pytest.approx(run.learning_rates)


def test_a_callback_that_does_nothing_changes_nothing():
    run = scripted_epochs.drive(keras.callbacks.Callback(), losses(1.0, 2.0),
                                model=scripted_epochs.tiny_model(learning_rate=0.3))
    assert run.learning_rates == pytest.approx([0.3, 0.3])
    assert run.epochs_run == 2 and not run.stopped
