"""course_lib.keras_grading on tiny Keras models (imports TensorFlow: a few seconds)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from checks import failure, passes  # noqa: E402
from course_lib import keras_grading  # noqa: E402

SPEC = [
    {"type": "Conv2D", "name": "conv1", "filters": 4, "kernel_size": (3, 3), "activation": "relu",
     "output_shape": (None, 26, 26, 4)},
    {"type": "MaxPooling2D", "pool_size": [2, 2], "output_shape": (None, 13, 13, 4)},
    {"type": "Flatten", "output_shape": (None, 676)},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
PARAMS = (3 * 3 * 1 * 4 + 4) + (676 * 10 + 10)  # conv + dense = 6,810


def tiny_cnn(kernel=3, activation="relu", with_pool=True, functional=False):
    layers = [keras.layers.Conv2D(4, kernel, activation=activation, name="conv1")]
    if with_pool:
        layers.append(keras.layers.MaxPooling2D(2))
    layers += [keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    if not functional:
        return keras.Sequential([keras.Input((28, 28, 1)), *layers])
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)




# --- check_layers ----------------------------------------------------------------------

@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
def test_check_layers_accepts_the_right_model(functional):
    assert passes(keras_grading.check_layers, tiny_cnn(functional=functional), SPEC)


def test_check_layers_wrong_kernel_size():
    message = failure(keras_grading.check_layers, tiny_cnn(kernel=5), SPEC)
    assert message == "Layer 1 ('conv1', Conv2D) should have kernel_size (3, 3), but it has (5, 5)."


def test_check_layers_wrong_activation():
    message = failure(keras_grading.check_layers, tiny_cnn(activation="tanh"), SPEC)
    assert message == "Layer 1 ('conv1', Conv2D) should have activation 'relu', but it has 'tanh'."


def test_check_layers_wrong_layer_count():
    message = failure(keras_grading.check_layers, tiny_cnn(with_pool=False), SPEC)
    assert message == "The model should have 4 layers, but it has 3: Conv2D, Flatten, Dense."


def test_check_layers_wrong_type_and_output_shape():
    spec = [dict(SPEC[0]), *SPEC[1:]]
    spec[1] = {"type": "AveragePooling2D"}
    assert "should have type 'AveragePooling2D', but it has 'MaxPooling2D'" in \
        failure(keras_grading.check_layers, tiny_cnn(), spec)
    spec = [*SPEC[:2], {"output_shape": (None, 100)}, SPEC[3]]
    assert "Layer 3" in failure(keras_grading.check_layers, tiny_cnn(), spec)


def test_check_layers_only_checks_listed_keys():
    assert passes(keras_grading.check_layers, tiny_cnn(kernel=5, activation="tanh"),
                  [{"type": "Conv2D"}, {}, {}, {"units": 10}])


# --- parameters ------------------------------------------------------------------------

def test_check_param_count():
    model = tiny_cnn()
    keras_grading.check_param_count(model, PARAMS)
    assert failure(keras_grading.check_param_count, model, 6_811) == \
        "The model should have 6,811 parameters, but it has 6,810."


def test_check_param_budget():
    model = tiny_cnn()
    keras_grading.check_param_budget(model, PARAMS + 1)
    keras_grading.check_param_budget(model, PARAMS, strict=False)
    assert failure(keras_grading.check_param_budget, model, PARAMS) == \
        "The model should have fewer than 6,810 parameters, but it has 6,810."
    assert failure(keras_grading.check_param_budget, model, 100, strict=False, what="Your CNN") == \
        "Your CNN should have at most 100 parameters, but it has 6,810."


# --- check_compiled --------------------------------------------------------------------

@pytest.mark.parametrize("optimizer, loss, metrics", [
    ("adam", "sparse_categorical_crossentropy", ["accuracy"]),
    ("Adam", keras.losses.SparseCategoricalCrossentropy(), ["acc"]),
    (keras.optimizers.Adam(1e-3), keras.losses.sparse_categorical_crossentropy,
     [keras.metrics.SparseCategoricalAccuracy()]),
], ids=["strings", "loss-object", "loss-function"])
def test_check_compiled_accepts(optimizer, loss, metrics):
    model = tiny_cnn()
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    assert passes(keras_grading.check_compiled, model, optimizer="Adam",
                  loss="sparse_categorical_crossentropy")


def test_check_compiled_rejects_uncompiled_model():
    assert failure(keras_grading.check_compiled, tiny_cnn(), "Adam", "sparse_categorical_crossentropy") == \
        "The model should be compiled with model.compile(...) before training."


def test_check_compiled_rejects_wrong_optimizer():
    model = tiny_cnn()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert failure(keras_grading.check_compiled, model, "Adam", "sparse_categorical_crossentropy") == \
        "The model should be compiled with the Adam optimizer, but it uses SGD."


@pytest.mark.parametrize("loss", ["categorical_crossentropy", keras.losses.MeanSquaredError()])
def test_check_compiled_rejects_wrong_loss(loss):
    model = tiny_cnn()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    message = failure(keras_grading.check_compiled, model, "Adam", "sparse_categorical_crossentropy")
    assert message.startswith("The model should be compiled with the loss 'sparse_categorical_crossentropy', "
                              "but it uses '")
    assert "crossentropy'." in message or "mean_squared_error'." in message


def test_check_compiled_rejects_missing_metric():
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["mae"])
    assert "metrics=['accuracy']" in failure(keras_grading.check_compiled, model, "Adam",
                                             "sparse_categorical_crossentropy")


def test_loss_name():
    assert keras_grading.loss_name("Sparse_Categorical_Crossentropy") == "sparse_categorical_crossentropy"
    assert keras_grading.loss_name(keras.losses.CategoricalCrossentropy()) == "categorical_crossentropy"
    assert keras_grading.loss_name(keras.losses.categorical_crossentropy) == "categorical_crossentropy"


# --- predictions and accuracy ----------------------------------------------------------

@pytest.fixture(scope="module")
def identity_model():
    """Predicts argmax of its 10 inputs: easy to compute by hand."""
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(10, use_bias=False)])
    model.layers[0].set_weights([np.eye(10, dtype=np.float32)])
    return model


SCORES = np.array([np.roll(np.arange(10.0), shift) for shift in range(7)])  # argmax = (9+shift) % 10
EXPECTED = np.array([(9 + shift) % 10 for shift in range(7)])


@pytest.mark.parametrize("batch_size", [512, 3, 1])
def test_predict_labels(identity_model, batch_size):
    predicted = keras_grading.predict_labels(identity_model, SCORES, batch_size=batch_size)
    np.testing.assert_array_equal(predicted, EXPECTED)


def test_predict_labels_of_nothing(identity_model):
    assert keras_grading.predict_labels(identity_model, np.zeros((0, 10))).shape == (0,)


def test_accuracy_matches_hand_count(identity_model):
    labels = EXPECTED.copy()
    labels[[1, 4]] = (labels[[1, 4]] + 1) % 10  # two of seven wrong
    assert keras_grading.accuracy(identity_model, SCORES, labels, batch_size=2) == pytest.approx(5 / 7)
    assert keras_grading.accuracy(identity_model, SCORES, np.eye(10)[labels]) == pytest.approx(5 / 7)
    assert keras_grading.accuracy(identity_model, SCORES, EXPECTED) == 1.0


def test_accuracy_rejects_length_mismatch(identity_model):
    assert failure(keras_grading.accuracy, identity_model, SCORES, EXPECTED[:3]) == \
        "Images and labels should have the same length."


class Noisy(keras.layers.Layer):
    """An identity layer that warns every call, like a deprecated student layer would."""

    def call(self, inputs):
        warnings.warn("this layer is deprecated", DeprecationWarning)
        warnings.warn("something odd", UserWarning)
        return inputs


def test_predict_labels_writes_nothing_to_stderr(capfd):
    with warnings.catch_warnings():  # building calls the layer too
        warnings.simplefilter("ignore")
        model = keras.Sequential([keras.Input((10,)), Noisy(), keras.layers.Dense(10)])
        model(SCORES[:1])
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for n in (1, 3, 7):
            keras_grading.predict_labels(model, SCORES[:n], batch_size=2)
        keras_grading.accuracy(model, SCORES, EXPECTED)
    out, err = capfd.readouterr()
    assert err == ""
    assert [str(w.message) for w in seen] == []


def test_predict_labels_is_silent_in_a_fresh_process_with_tensorflow_logging_on():
    """What nbgrader sees: a new kernel, TensorFlow's C++ log level at its default."""
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import keras
        from course_lib import keras_grading
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3),
                                  keras.layers.Flatten(), keras.layers.Dense(10)])
        images = np.random.default_rng(0).random((50, 28, 28, 1))
        print("--- checks start ---", file=sys.stderr, flush=True)
        for n in (1, 17, 50):
            keras_grading.predict_labels(model, images[:n], batch_size=16)
        keras_grading.accuracy(model, images, np.zeros(50, dtype=int))
        print("ok")
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert done.stderr.split("--- checks start ---\n", 1)[1] == ""


# --- any correct idiom: nested blocks, layer subclasses, the PyTorch-style GAP ------------

def block(filters, dropout):
    """A Conv-BN-ReLU-Dropout block as its own keras.Sequential (a common student idiom)."""
    return keras.Sequential([keras.layers.Conv2D(filters, 3, use_bias=False),
                             keras.layers.BatchNormalization(), keras.layers.ReLU(), dropout])


class ConvBlock(keras.layers.Layer):
    """A custom block layer holding its sublayers as attributes."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(filters, 3)
        self.norm = keras.layers.BatchNormalization()

    def call(self, inputs, training=None):
        return self.norm(self.conv(inputs), training=training)


def test_check_layers_sees_through_nested_sequential_blocks():
    nested = keras.Sequential([keras.Input((28, 28, 1)),
                               keras.Sequential([keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
                                                 keras.layers.MaxPooling2D(2)]),
                               keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    assert passes(keras_grading.check_layers, nested, SPEC)


def test_check_layers_accepts_a_subclass_of_the_wanted_type():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.SpatialDropout2D(0.1), keras.layers.Flatten()])
    assert passes(keras_grading.check_layers, model, [{"type": "Conv2D"}, {"type": "Dropout"}, {"type": "Flatten"}])
    assert "should have type 'Dense', but it has 'SpatialDropout2D'" in \
        failure(keras_grading.check_layers, model, [{"type": "Conv2D"}, {"type": "Dense"}, {"type": "Flatten"}])


@pytest.mark.parametrize("build", [
    lambda: keras.Sequential([keras.Input((28, 28, 1)), block(4, keras.layers.Dropout(0.1)),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]),
    lambda: keras.Sequential([keras.Input((28, 28, 1)), block(4, keras.layers.SpatialDropout2D(0.1)),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]),
    lambda: keras.Sequential([keras.Input((28, 28, 1)), ConvBlock(4), keras.layers.GaussianDropout(0.1),
                              keras.layers.AveragePooling2D(26), keras.layers.Flatten(), keras.layers.Dense(10)]),
], ids=["nested-sequential", "spatial-dropout", "custom-block-pytorch-style-gap"])
def test_check_has_layers_accepts_every_idiom(build):
    assert passes(keras_grading.check_has_layers, build(),
                  ["Conv2D", "BatchNormalization", "Dropout", "GlobalAveragePooling2D"])


def test_check_has_layers_rejects_a_partial_average_pooling_and_names_the_alternatives():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.AveragePooling2D(2), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert failure(keras_grading.check_has_layers, model, ["GlobalAveragePooling2D"], what="Your model") == (
        "Your model should contain a GlobalAveragePooling2D layer (or an AveragePooling2D over the whole "
        "feature map), but its layers are: Conv2D, AveragePooling2D, Flatten, Dense.")
    assert "should contain a Dropout layer (SpatialDropout2D" in \
        failure(keras_grading.check_has_layers, model, ["Dropout"])


@pytest.mark.parametrize("layers, expected", [
    ([keras.layers.Conv2D(2, 3), keras.layers.Conv2D(2, 3)], 5),
    ([keras.layers.Conv2D(2, 3), keras.layers.MaxPooling2D(2), keras.layers.Conv2D(2, 3)], 8),
    ([keras.layers.Conv2D(2, 5, strides=2), keras.layers.Conv2D(2, 3, dilation_rate=2)], 13),
    ([keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.MaxPooling2D(2)]), keras.layers.Conv2D(2, 1),
      keras.layers.Conv2D(2, 3, padding="same"), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)], 8),
    ([keras.layers.Conv2D(2, 3), keras.layers.AveragePooling2D(26), keras.layers.Conv2D(10, 1)], 3),
], ids=["two-convs", "pool-doubles-the-step", "stride-and-dilation", "nested-and-gap", "pytorch-style-gap"])
def test_receptive_field_from_the_layers(layers, expected):
    model = keras.Sequential([keras.Input((28, 28, 1)), *layers])
    assert keras_grading.receptive_field(model) == (expected, expected)
    keras_grading.check_receptive_field(model, expected, "RF")
    assert failure(keras_grading.check_receptive_field, model, expected + 2, "RF").startswith(
        f"RF is {expected + 2}, but the receptive field computed from the layers of the model differs")
    assert failure(keras_grading.check_receptive_field, model, "5", "RF") == \
        "RF should be a whole number of pixels, but it is '5'."


# --- the student's training recipe -------------------------------------------------------

@pytest.mark.parametrize("namespace, expected", [
    ({"B": 64, "make": lambda: keras.optimizers.SGD(0.01, momentum=0.9)}, None),
    ({"B": 512, "make": lambda: keras.optimizers.Adam()}, "B should be a whole number from 32 to 128, but it is 512."),
    ({"B": 64.0, "make": lambda: keras.optimizers.Adam()}, "B should be a whole number from 32 to 128, but it is 64.0."),
    ({"make": lambda: keras.optimizers.Adam()}, "B should be a whole number from 32 to 128, but it is None."),
    ({"B": 64, "make": "adam"}, "make should be a function that returns a Keras optimizer."),
    ({"B": 64, "make": lambda: "adam"}, "make() should return a keras.optimizers optimizer, but it returned str."),
    ({"B": 64, "make": lambda: 1 / 0}, "make() failed with ZeroDivisionError when the grader called it."),
], ids=["usable", "batch-too-large", "batch-float", "batch-missing", "not-callable", "a-name", "raises"])
def test_recipe_problem_names_what_is_wrong(namespace, expected):
    assert keras_grading.recipe_problem(namespace, "B", "make") == expected
    if expected is None:
        keras_grading.check_recipe(namespace, "B", "make")
    else:
        assert failure(keras_grading.check_recipe, namespace, "B", "make") == expected


def test_recipe_problem_wants_a_new_optimizer_per_call():
    shared = keras.optimizers.Adam()
    assert keras_grading.recipe_problem({"B": 32, "make": lambda: shared}, "B", "make") == \
        "make() should create a new optimizer on every call, but it returns the same one."
