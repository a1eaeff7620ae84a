"""The layers of a Keras model as its author meant them, whatever the idiom it was built in.

A student may write every layer at the top of one ``keras.Sequential``, or group them in
blocks (a nested ``keras.Sequential``, a small functional model, a custom layer holding
sublayers), or put the augmentation layers in a ``keras.Sequential`` of their own as the
Keras docs do. :func:`leaf_layers` sees through all of these, so notebooks and checks
look at the same layers either way. Imports Keras (PyTorch notebooks never import this
module).
"""

from __future__ import annotations

import keras


def is_kind(layer, name: str) -> bool:
    """True when ``layer`` is a ``name`` layer or a subclass of one (a SpatialDropout2D is
    a Dropout, a student's RandomRotation subclass is a RandomRotation)."""
    return any(cls.__name__ == name for cls in type(layer).__mro__)


def _children(layer) -> list:
    """The sublayers a block is built from, in the order they run when that is known."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    if type(layer).__module__.startswith("keras."):
        return []  # a built-in layer is a leaf, whatever it tracks inside
    return list(layer._flatten_layers(include_self=False, recursive=False))


def leaf_layers(model) -> list:
    """Every layer of ``model`` that is not a container, in order, nested blocks expanded;
    Input layers left out."""
    found = []
    for layer in _children(model):
        if is_kind(layer, "InputLayer"):
            continue
        inner = _children(layer)
        found.extend(leaf_layers(layer) if inner else [layer])
    return found


def is_augmentation(layer) -> bool:
    """Keras' random image-augmentation layers (RandomRotation, RandomTranslation, ...) and
    subclasses of them."""
    return any(cls.__name__.startswith("Random") and cls.__module__.startswith("keras.")
               for cls in type(layer).__mro__)


def augmentation_layers(model) -> list:
    """The augmentation layers of ``model``, in order, also inside nested blocks."""
    return [layer for layer in leaf_layers(model) if is_augmentation(layer)]


def augment(model, images):
    """``images`` passed through the model's augmentation layers in training mode (to show
    what the model sees while it trains)."""
    for layer in augmentation_layers(model):
        images = layer(images, training=True)
    return keras.ops.convert_to_numpy(images)
