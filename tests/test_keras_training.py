"""Unit tests for course_lib.keras_training, plots.epoch_log and the Keras checks the
param_budget_cnn hidden tests use (tiny models and data: a few seconds)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from course_lib import keras_grading, keras_layers, keras_training, plots, seeding


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    return x, y


def tiny(augment=(), extra=()):
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), *augment,
                             layers.Conv2D(2, 3), *extra, layers.GlobalAveragePooling2D(),
                             layers.Dense(10, activation="softmax")])


def test_evaluate_matches_a_hand_computation(digits):
    x, y = digits
    seeding.seed_everything(0)
    model = tiny()
    probs = np.asarray(model(x, training=False), dtype=np.float64)
    loss, acc = keras_training.evaluate(model, x, y, batch_size=10)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == y))
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(len(y)), y])), rel=1e-5)


def test_fit_logged_records_one_entry_per_epoch_and_the_scheduled_lr(digits, capsys):
    x, y = digits
    seeding.seed_everything(0)
    model = tiny()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)
    log = keras_training.fit_logged(model, keras.optimizers.Adam(schedule), x, y, (x, y), epochs=3,
                                    batch_size=32)
    assert all(len(log.history[k]) == 3 for k in keras_training.LOG_KEYS)
    assert log.history["lr"] == pytest.approx([0.01 * 0.5 ** (2 * e / 2) for e in (1, 2, 3)], rel=1e-5)
    assert log.history["test_accuracy"][-1] == pytest.approx(keras_training.evaluate(model, x, y)[1])
    assert capsys.readouterr().out.count("| test loss") == 3


def test_fit_logged_rejects_an_optimizer_name(digits):
    x, y = digits
    with pytest.raises(TypeError, match="keras.optimizers.Optimizer"):
        keras_training.fit_logged(tiny(), "adam", x, y, (x, y), epochs=1)


def test_check_has_layers_names_the_missing_type():
    keras_grading.check_has_layers(tiny(extra=[layers.BatchNormalization()]), ["BatchNormalization"])
    with pytest.raises(AssertionError, match="should contain a Dropout layer"):
        keras_grading.check_has_layers(tiny(), ["Dropout"])


def test_training_only_augmentation_passes_and_fails_as_measured(digits):
    x, _ = digits
    keras_grading.check_training_only_augmentation(tiny([layers.RandomTranslation(0.2, 0.2)]), x[:8])
    with pytest.raises(AssertionError, match="at least one of the augmentation layers"):
        keras_grading.check_training_only_augmentation(tiny(), x[:8])
    with pytest.raises(AssertionError, match="should change the training images"):
        keras_grading.check_training_only_augmentation(tiny([layers.RandomTranslation(0.0, 0.0)]), x[:8])

    class RandomAlwaysRotation(layers.RandomRotation):  # augments at inference too
        def call(self, inputs, training=True):
            return super().call(inputs, training=True)

    with pytest.raises(AssertionError, match="when training=False"):
        keras_grading.check_training_only_augmentation(tiny([RandomAlwaysRotation(0.2)]), x[:8],
                                                        required=("RandomAlwaysRotation",))


def test_epoch_log_plot_has_labelled_panels():
    history = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "test_loss": [0.9, 0.6],
               "test_accuracy": [0.7, 0.8], "lr": [1e-3, 5e-4]}
    fig = plots.epoch_log(history, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy", "Learning rate"]
    assert all(ax.get_xlabel() == "Epoch" and ax.get_legend() for ax in fig.axes)


def test_augmentation_in_a_nested_sequential_is_checked_by_behaviour(digits):
    """The Keras docs' idiom: the augmentation layers in a keras.Sequential of their own."""
    x, _ = digits
    augmentation = keras.Sequential([layers.RandomRotation(0.1), layers.RandomTranslation(0.2, 0.2)])
    model = tiny([augmentation], extra=[keras.Sequential([layers.BatchNormalization(), layers.ReLU()])])
    keras_grading.check_training_only_augmentation(model, x[:8])
    assert [type(layer).__name__ for layer in keras_layers.augmentation_layers(model)] == \
        ["RandomRotation", "RandomTranslation"]
    assert not np.allclose(keras_layers.augment(model, x[:8]), x[:8])
    with pytest.raises(AssertionError, match="should change the training images"):
        keras_grading.check_training_only_augmentation(
            tiny([keras.Sequential([layers.RandomTranslation(0.0, 0.0)])]), x[:8])


def test_leaf_layers_expand_nested_blocks_in_order():
    model = tiny([keras.Sequential([layers.RandomRotation(0.1)])],
                 extra=[keras.Sequential([layers.BatchNormalization(), layers.SpatialDropout2D(0.1)])])
    assert [type(layer).__name__ for layer in keras_layers.leaf_layers(model)] == \
        ["RandomRotation", "Conv2D", "BatchNormalization", "SpatialDropout2D", "GlobalAveragePooling2D", "Dense"]
    assert keras_layers.is_kind(keras_layers.leaf_layers(model)[3], "Dropout")


def test_fit_logged_settles_batchnorm_faster_only_while_grading(digits, monkeypatch):
    """A run of a few steps leaves momentum-0.99 statistics near their start; grading caps it."""
    x, y = digits
    norm = layers.BatchNormalization()
    model = tiny(extra=[keras.Sequential([norm])])
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    keras_training.fit_logged(model, keras.optimizers.Adam(1e-3), x, y, (x, y), epochs=1, batch_size=32)
    assert norm.momentum == pytest.approx(0.99)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    keras_training.fit_logged(model, keras.optimizers.Adam(1e-3), x, y, (x, y), epochs=1, batch_size=32)
    assert norm.momentum == pytest.approx(keras_training.GRADING_BATCHNORM_MOMENTUM)
