"""Read the layer graph of a Keras model (for PA4's hidden tests of branching
architectures such as an inception module). Imports Keras; PyTorch notebooks never
import this module.

:func:`flat_layers` lists a model's layers with nested models (blocks built as
``keras.Sequential`` or a Functional sub-model) opened up, so a check sees every layer
whatever idiom the student used. :func:`parallel_branches` finds, for every
``Concatenate`` layer, the inputs that run in parallel (none of them is computed from
another), the latest tensor they all start from, and the layers on each branch between
that tensor and the ``Concatenate``; it looks inside nested models too.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras


@dataclass
class Branching:
    """A ``Concatenate`` layer fed by parallel branches that start from ``source``."""

    concat: keras.layers.Layer
    source: object
    branches: list[list[keras.layers.Layer]]

    @property
    def layers(self) -> list[keras.layers.Layer]:
        """Every layer on any branch, each once, nested blocks opened up."""
        seen, out = set(), []
        for branch in self.branches:
            for layer in _opened(branch):
                if id(layer) not in seen:
                    seen.add(id(layer))
                    out.append(layer)
        return out


def _opened(layers) -> list:
    """``layers`` with every nested model replaced by its own layers (recursively), without
    Input layers."""
    out = []
    for layer in layers:
        if isinstance(layer, keras.Model):
            out.extend(_opened(layer.layers))
        elif not isinstance(layer, keras.layers.InputLayer):
            out.append(layer)
    return out


def flat_layers(model) -> list[keras.layers.Layer]:
    """Every layer of ``model`` in order, nested models opened up, Input layers left out."""
    return _opened(model.layers)


def _producer(tensor):
    """(layer that computed ``tensor``, its input tensors), or (None, []) for a model input."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return None, []
    layer = history.operation
    node = layer._inbound_nodes[history.node_index]
    return layer, list(node.input_tensors)


def _ancestry(tensor) -> dict[int, tuple[object, object]]:
    """{id(t): (t, layer that computed t)} for ``tensor`` and every tensor it depends on."""
    found, stack = {}, [tensor]
    while stack:
        current = stack.pop()
        if id(current) in found:
            continue
        layer, inputs = _producer(current)
        found[id(current)] = (current, layer)
        stack.extend(inputs)
    return found


def parallel_branches(model) -> list[Branching]:
    """One :class:`Branching` per call of a ``Concatenate`` layer in ``model`` or a model
    nested in it whose parallel inputs share a source tensor (an empty list for a plain
    chain of layers)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(parallel_branches(layer))
            continue
        if not isinstance(layer, keras.layers.Concatenate):
            continue
        for node in layer._inbound_nodes:
            inputs = list({id(t): t for t in node.input_tensors}.values())
            ancestry = [_ancestry(t) for t in inputs]
            parallel = [i for i, tensor in enumerate(inputs)
                        if not any(id(tensor) in ancestry[j] for j in range(len(inputs)) if j != i)]
            if len(parallel) < 2:
                continue
            common = set.intersection(*(set(ancestry[i]) for i in parallel))
            if not common:
                continue
            source_id = max(common, key=lambda tid: len(_ancestry(ancestry[parallel[0]][tid][0])))
            source = ancestry[parallel[0]][source_id][0]
            before = set(_ancestry(source))
            branches = [[lay for tid, (_, lay) in ancestry[i].items()
                         if tid not in before and lay is not None] for i in parallel]
            found.append(Branching(layer, source, branches))
    return found
