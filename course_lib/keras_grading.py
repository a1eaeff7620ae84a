"""Checks the hidden tests call for Keras models (imports Keras; PyTorch notebooks never
import this module).

A layer specification is a list of dicts, one per layer in order, each naming what must
be exact, e.g. ``{"type": "Conv2D", "name": "conv1", "filters": 32, "kernel_size": (3, 3),
"activation": "relu", "output_shape": (None, 26, 26, 32)}``. Keys left out are not checked,
so a spec can be exact where the task is exact and tolerant where the student chooses.

Every layer check sees the model as :func:`keras_layers.leaf_layers` does: layers grouped
in nested blocks (a ``keras.Sequential`` inside the model, a custom block layer) count as
if written at the top, and a rule about a kind of layer accepts its subclasses (a
``SpatialDropout2D`` is a ``Dropout``), so any correct idiom passes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .data import labels_of
from .grading import expect
from .keras_layers import augmentation_layers, is_augmentation, is_kind, leaf_layers  # noqa: F401
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


def check_layers(model, spec: Sequence[Mapping]) -> None:
    """The model's layers match ``spec`` one by one, in order (Input layers are not counted,
    nested blocks are expanded, a subclass of the wanted type counts as that type)."""
    layers = leaf_layers(model)
    found = ", ".join(type(layer).__name__ for layer in layers)
    expect(len(layers) == len(spec),
           f"The model should have {len(spec)} layers, but it has {len(layers)}: {found}.")
    for index, (layer, wanted) in enumerate(zip(layers, spec)):
        for key, expected in wanted.items():
            expected = tuple(expected) if isinstance(expected, list) else expected
            actual = _layer_value(layer, key)
            matches = is_kind(layer, expected) if key == "type" else actual == expected
            expect(matches,
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


def _spatial(shape) -> tuple:
    return tuple(shape[1:-1])


def _covers_whole_map(layer) -> bool:
    """An AveragePooling2D whose window spans its whole input, i.e. a global average pooling
    written the PyTorch way (``AvgPool2d(kernel_size=6)`` on a 6 x 6 map)."""
    try:
        height_width = _spatial(layer.input.shape)
    except (AttributeError, ValueError):
        return False
    return all(size is not None for size in height_width) and \
        all(p >= size for p, size in zip(layer.pool_size, height_width))


#: Other layers that do what a rule asks for, beyond the named class and its subclasses.
KIND_ALTERNATIVES = {
    "Dropout": ("a Dropout layer (SpatialDropout2D, GaussianDropout and AlphaDropout count too)",
                lambda layer: is_kind(layer, "GaussianDropout") or is_kind(layer, "AlphaDropout")),
    "GlobalAveragePooling2D": ("a GlobalAveragePooling2D layer (or an AveragePooling2D over the whole feature map)",
                               lambda layer: is_kind(layer, "AveragePooling2D") and _covers_whole_map(layer)),
}


def has_kind(layer, wanted: str) -> bool:
    """True when ``layer`` does what a rule about ``wanted`` layers asks for."""
    alternative = KIND_ALTERNATIVES.get(wanted)
    return is_kind(layer, wanted) or bool(alternative and alternative[1](layer))


def check_has_layers(model, types: Sequence[str], what: str = "The model") -> None:
    """The model holds at least one layer of each kind in ``types`` (order not checked),
    also inside nested blocks; subclasses and the :data:`KIND_ALTERNATIVES` count."""
    layers = leaf_layers(model)
    found = ", ".join(type(layer).__name__ for layer in layers)
    for wanted in types:
        description = KIND_ALTERNATIVES.get(wanted, (f"a {wanted} layer",))[0]
        expect(any(has_kind(layer, wanted) for layer in layers),
               f"{what} should contain {description}, but its layers are: {found}.")


def _without_augmentation(model, images, training: bool = False):
    """``images`` through ``model`` with its augmentation layers skipped (nested
    ``keras.Sequential`` blocks are walked; any other block runs as one layer)."""
    import keras

    for layer in model.layers:
        if is_kind(layer, "InputLayer") or is_augmentation(layer):
            continue
        if isinstance(layer, keras.Sequential):
            images = _without_augmentation(layer, images, training)
        else:
            images = layer(images, training=training)
    return images


def check_training_only_augmentation(model, images: np.ndarray, what: str = "The model",
                                     required: Sequence[str] = ("RandomRotation", "RandomTranslation")) -> None:
    """A Sequential model whose augmentation layers change images in training only.

    Measured, not read from settings: two inference calls must agree with each other and
    with the same model run without its augmentation layers, and the augmentation layers
    with ``training=True`` must change the images. Augmentation layers may sit at the top
    of the model or in a nested block (e.g. ``keras.Sequential([RandomRotation(...), ...])``
    as the Keras docs write it); subclasses of the required layers count.
    """
    import keras

    expect(isinstance(model, keras.Sequential), f"{what} should be a keras.Sequential model.")
    augment = augmentation_layers(model)
    expect(any(is_kind(layer, name) for layer in augment for name in required),
           f"{what} should contain at least one of the augmentation layers {', '.join(required)}.")
    images = np.asarray(images, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = np.asarray(model(images, training=False))
        second = np.asarray(model(images, training=False))
        plain = _without_augmentation(model, images)
        augmented = images
        for layer in augment:
            augmented = layer(augmented, training=True)
    expect(np.allclose(first, second, atol=1e-6),
           f"{what} should give the same output twice for the same images when training=False.")
    expect(np.allclose(first, np.asarray(plain), atol=1e-5),
           f"{what}'s augmentation layers should leave the images unchanged when training=False.")
    expect(not np.allclose(np.asarray(augmented), images, atol=1e-3),
           f"{what}'s augmentation layers should change the training images when training=True.")


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value), int(value))


def receptive_field(model) -> tuple[int, int]:
    """(height, width) in pixels of the input patch one unit of the model's last spatial
    layer sees: each convolution or pooling layer adds (window - 1) x the product of the
    strides before it (dilation widens the window); counting stops at global pooling,
    Flatten or an average pooling over the whole map. Padding does not change it."""
    field, jump = [1, 1], [1, 1]
    for layer in leaf_layers(model):
        if has_kind(layer, "GlobalAveragePooling2D") or is_kind(layer, "BaseGlobalPooling") \
                or is_kind(layer, "Flatten"):
            break
        if hasattr(layer, "kernel_size") and hasattr(layer, "strides"):
            window = [d * (k - 1) + 1 for k, d in zip(_pair(layer.kernel_size),
                                                     _pair(getattr(layer, "dilation_rate", 1)))]
        elif hasattr(layer, "pool_size"):
            window = list(_pair(layer.pool_size))
        else:
            continue
        strides = _pair(layer.strides or layer.pool_size)
        for axis in (0, 1):
            field[axis] += (window[axis] - 1) * jump[axis]
            jump[axis] *= strides[axis]
    return field[0], field[1]


def check_receptive_field(model, answer, name: str, what: str = "the model") -> None:
    """The student's ``answer`` (named ``name``) is the receptive field computed from the
    layers of ``model`` (either side, if they differ)."""
    expect(isinstance(answer, (int, np.integer)) and not isinstance(answer, bool),
           f"{name} should be a whole number of pixels, but it is {answer!r}.")
    expect(int(answer) in receptive_field(model),
           f"{name} is {int(answer)}, but the receptive field computed from the layers of {what} "
           f"differs (each convolution or pooling layer adds (window - 1) x the product of the strides before it).")


def recipe_problem(namespace: Mapping, batch_name: str, optimizer_name: str,
                   batch_range: tuple[int, int] = (32, 128)) -> str | None:
    """What is wrong with a student's training recipe (a batch size ``batch_name`` and a
    function ``optimizer_name()`` returning a new Keras optimizer), in one sentence, or
    None when it is usable. Used by the recipe test and, to grade later parts with the
    course's recipe instead, by the tests after it."""
    import keras

    low, high = batch_range
    batch = namespace.get(batch_name)
    if not (isinstance(batch, (int, np.integer)) and not isinstance(batch, bool) and low <= batch <= high):
        return f"{batch_name} should be a whole number from {low} to {high}, but it is {batch!r}."
    make = namespace.get(optimizer_name)
    if not callable(make):
        return f"{optimizer_name} should be a function that returns a Keras optimizer."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first, second = make(), make()
    except Exception as error:  # noqa: BLE001 - any failure of student code is reported
        return f"{optimizer_name}() failed with {type(error).__name__} when the grader called it."
    if not isinstance(first, keras.optimizers.Optimizer):
        return f"{optimizer_name}() should return a keras.optimizers optimizer, but it returned {type(first).__name__}."
    if first is second:
        return f"{optimizer_name}() should create a new optimizer on every call, but it returns the same one."
    return None


def check_recipe(namespace: Mapping, batch_name: str, optimizer_name: str,
                 batch_range: tuple[int, int] = (32, 128)) -> None:
    """The student's training recipe is usable (see :func:`recipe_problem`)."""
    problem = recipe_problem(namespace, batch_name, optimizer_name, batch_range)
    expect(problem is None, problem or "")
