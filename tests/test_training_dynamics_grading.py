"""course_lib.training_dynamics_grading (PA4's hidden-test checks): every correct Keras idiom
passes, each mistake fails with its own sentence, nothing reaches stderr."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from course_lib import training_dynamics_grading as tdg

rng = np.random.default_rng(0)
IMAGES = rng.random((64, 28, 28, 1), dtype=np.float32)
LABELS = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]


def lab7_style():
    model = keras.Sequential()
    model.add(layers.Conv2D(4, 3, activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.Flatten())
    model.add(layers.Dense(10, activation="softmax"))
    return model


def nested_blocks():
    block = keras.Sequential([layers.Conv2D(4, 3, padding="same"), layers.AveragePooling2D(2),
                              layers.SpatialDropout2D(0.1)])
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), block, layers.Flatten(), layers.Dense(10),
                             layers.Softmax()])


def inception(nested: bool):
    def conv(size):
        return layers.Conv2D(4, size, padding="same")
    module_in = keras.Input(shape=(14, 14, 4))
    if nested:
        three = keras.Sequential([conv(1), conv(3)])(module_in)
    else:
        three = conv(3)(conv(1)(module_in))
    branches = [conv(1)(module_in), three, conv(5)(conv(1)(module_in)),
                conv(1)(layers.MaxPooling2D(3, strides=1, padding="same")(module_in))]
    module = keras.Model(module_in, layers.Concatenate()(branches))
    inputs = keras.Input(shape=(28, 28, 1))
    x = module(layers.MaxPooling2D()(layers.Conv2D(4, 3, padding="same")(inputs)))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(x)))


@pytest.mark.parametrize("build", [lab7_style, nested_blocks])
def test_every_sequential_idiom_passes_without_stderr(build, capfd):
    tdg.check_classifier(tdg.quietly(build), IMAGES, "build_sequential_cnn()")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("build, message", [
    (lambda: keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(2, 3), layers.Flatten(),
                               layers.Dense(10)]), "softmax"),
    (lambda: keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                               layers.Dense(10, activation="softmax")]), "Conv2D"),
    (lambda: keras.Sequential([keras.Input(shape=(32, 32, 1)), layers.Conv2D(2, 3), layers.Flatten(),
                               layers.Dense(10, activation="softmax")]), "input shape"),
])
def test_a_wrong_classifier_fails_with_its_own_sentence(build, message):
    with pytest.raises(AssertionError, match=message):
        tdg.check_classifier(build(), IMAGES, "build_sequential_cnn()")


def test_a_compiled_classifier_fails():
    model = lab7_style()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(AssertionError, match="uncompiled"):
        tdg.check_classifier(model, IMAGES, "build_sequential_cnn()")


@pytest.mark.parametrize("nested", [False, True])
def test_inception_modules_pass_plain_or_nested(nested):
    tdg.check_inception_module(inception(nested))


def test_branches_in_a_chain_are_no_inception_module():
    inputs = keras.Input(shape=(28, 28, 1))
    a = layers.Conv2D(4, 1, padding="same")(inputs)
    b = layers.Conv2D(4, 3, padding="same")(a)
    c = layers.Conv2D(4, 5, padding="same")(b)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(
        layers.Concatenate()([a, b, c]))))
    with pytest.raises(AssertionError, match="at least 3 parallel branches"):
        tdg.check_inception_module(model)


def test_the_stand_in_passes_the_training_check_and_a_broken_function_does_not():
    assert tdg.train_function_problem(tdg.stand_in_train_model_with_config, IMAGES, LABELS, IMAGES, LABELS) is None

    def ignores_learning_rate(model, X_train, y_train, X_val, y_val, optimizer_name, learning_rate,
                              batch_size, epochs, callbacks=None, verbose=0):
        return tdg.stand_in_train_model_with_config(model, X_train, y_train, X_val, y_val, optimizer_name,
                                                    0.01, batch_size, epochs, callbacks, verbose)

    problem = tdg.train_function_problem(ignores_learning_rate, IMAGES, LABELS, IMAGES, LABELS)
    assert problem is not None and "learning rate" in problem


def test_a_function_that_raises_is_reported_in_one_sentence():
    def unfinished(*args, **kwargs):
        raise NotImplementedError()

    assert tdg.train_function_problem(unfinished, IMAGES, LABELS, IMAGES, LABELS) == \
        "train_model_with_config raised NotImplementedError."
