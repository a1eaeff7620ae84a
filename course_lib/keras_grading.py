"""Checks the hidden tests call for Keras models (imports Keras; PyTorch notebooks never
import this module).

A layer specification is a list of dicts, one per layer in order, each naming what must
be exact, e.g. ``{"type": "Conv2D", "name": "conv1", "filters": 32, "kernel_size": (3, 3),
"activation": "relu", "output_shape": (None, 26, 26, 32)}``. Keys left out are not checked,
so a spec can be exact where the task is exact and tolerant where the student chooses.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .data import labels_of
from .grading import expect
from .keras_training import predict_probabilities

ACCURACY_ALIASES = {"accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _layer_value(layer, key: str):
    if key == "type":
        return type(layer).__name__
    if key == "activation":
        activation = getattr(layer, "activation", None)
        return getattr(activation, "__name__", activation)
    if key == "output_shape":
        return tuple(layer.output.shape)
    value = getattr(layer, key, None)
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _describe(index: int, layer) -> str:
    return f"Layer {index + 1} ('{layer.name}', {type(layer).__name__})"


def _layers(model) -> list:
    """The model's layers without its InputLayer (functional models list one)."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def check_layers(model, spec: Sequence[Mapping]) -> None:
    """The model's layers match ``spec`` one by one, in order (Input layers are not counted)."""
    layers = _layers(model)
    found = ", ".join(type(layer).__name__ for layer in layers)
    expect(len(layers) == len(spec),
           f"The model should have {len(spec)} layers, but it has {len(layers)}: {found}.")
    for index, (layer, wanted) in enumerate(zip(layers, spec)):
        for key, expected in wanted.items():
            expected = tuple(expected) if isinstance(expected, list) else expected
            actual = _layer_value(layer, key)
            expect(actual == expected,
                   f"{_describe(index, layer)} should have {key} {expected!r}, but it has {actual!r}.")


def check_param_count(model, expected: int) -> None:
    actual = model.count_params()
    expect(actual == expected,
           f"The model should have {expected:,} parameters, but it has {actual:,}.")


def check_param_budget(model, maximum: int, strict: bool = True, what: str = "The model") -> None:
    """At most (or below, with ``strict``) ``maximum`` parameters, counted from the model."""
    actual = model.count_params()
    fits = actual < maximum if strict else actual <= maximum
    bound = "fewer than" if strict else "at most"
    expect(fits, f"{what} should have {bound} {maximum:,} parameters, but it has {actual:,}.")


def loss_name(loss) -> str:
    """A compiled loss as a snake_case name: strings, Loss objects and loss functions alike."""
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return _snake(name) if any(c.isupper() for c in name) else name


def check_compiled(model, optimizer: str, loss: str, metric: str = "accuracy") -> None:
    """The model is compiled with this optimizer class, loss and metric."""
    expect(getattr(model, "optimizer", None) is not None and getattr(model, "compiled", False),
           "The model should be compiled with model.compile(...) before training.")
    actual_opt = type(model.optimizer).__name__
    expect(actual_opt.lower() == optimizer.lower(),
           f"The model should be compiled with the {optimizer} optimizer, but it uses {actual_opt}.")
    actual_loss = loss_name(model.loss)
    expect(actual_loss == loss,
           f"The model should be compiled with the loss '{loss}', but it uses '{actual_loss}'.")
    metrics = model.get_compile_config().get("metrics") or []
    names = {loss_name(m.get("config", {}).get("name", "") if isinstance(m, dict) else m)
             for m in metrics}
    wanted = ACCURACY_ALIASES if metric == "accuracy" else {metric}
    expect(bool(names & wanted),
           f"The model should be compiled with metrics=['{metric}'], but its metrics are {sorted(names)}.")


def predict_labels(model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The model's predicted class for each image (see :func:`predict_probabilities`)."""
    probabilities = predict_probabilities(model, images, batch_size)
    return probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, dtype=np.int64)


def accuracy(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 512) -> float:
    """Accuracy of ``model`` on ``images`` measured by the grader (labels integer or one-hot)."""
    expect(len(images) == len(labels), "Images and labels should have the same length.")
    return float(np.mean(predict_labels(model, images, batch_size) == labels_of(labels)))


def check_has_layers(model, types: Sequence[str], what: str = "The model") -> None:
    """The model holds at least one layer of each type in ``types`` (order not checked)."""
    found = [type(layer).__name__ for layer in _layers(model)]
    for wanted in types:
        expect(wanted in found,
               f"{what} should contain a {wanted} layer, but its layers are: {', '.join(found)}.")


def is_augmentation(layer) -> bool:
    """Keras' random image-augmentation layers (RandomRotation, RandomTranslation, ...)."""
    return type(layer).__name__.startswith("Random")


def check_training_only_augmentation(model, images: np.ndarray, what: str = "The model",
                                     required: Sequence[str] = ("RandomRotation", "RandomTranslation")) -> None:
    """A Sequential model whose augmentation layers change images in training only.

    Measured, not read from settings: two inference calls must agree with each other and
    with the same model run without its augmentation layers, and the augmentation layers
    with ``training=True`` must change the images.
    """
    import keras

    expect(isinstance(model, keras.Sequential), f"{what} should be a keras.Sequential model.")
    augment = [layer for layer in model.layers if is_augmentation(layer)]
    expect(any(type(layer).__name__ in required for layer in augment),
           f"{what} should contain at least one of the augmentation layers {', '.join(required)}.")
    images = np.asarray(images, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = np.asarray(model(images, training=False))
        second = np.asarray(model(images, training=False))
        plain = images
        for layer in model.layers:
            if not is_augmentation(layer):
                plain = layer(plain, training=False)
        augmented = images
        for layer in augment:
            augmented = layer(augmented, training=True)
    expect(np.allclose(first, second, atol=1e-6),
           f"{what} should give the same output twice for the same images when training=False.")
    expect(np.allclose(first, np.asarray(plain), atol=1e-5),
           f"{what}'s augmentation layers should leave the images unchanged when training=False.")
    expect(not np.allclose(np.asarray(augmented), images, atol=1e-3),
           f"{what}'s augmentation layers should change the training images when training=True.")
