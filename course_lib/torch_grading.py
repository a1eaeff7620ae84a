"""Checks the hidden tests call for PyTorch models (imports PyTorch; never TensorFlow or
Keras, and Keras notebooks never import this module).

Architecture checks are behavioural: the grader runs the model's forward pass with hooks
on its layers and checks what actually happens, in order, whatever the student named the
attributes or however ``forward`` is written. A layer specification is a list of dicts,
one per layer with weights or pooling (and Dropout), e.g. ``{"type": "Conv2d",
"in_channels": 1, "out_channels": 32, "kernel_size": (5, 5), "output_shape": (32, 24, 24),
"input": "image"}``. ``input`` says what feeds the layer: ``"image"`` (the model's input),
``"previous"`` (the previous layer's output), ``"relu"`` (its ReLU) or ``"flatten"`` (it
flattened per image). ReLU and flatten may be modules or functions; they are not listed.
Pooling and dropout may be modules or functional calls (``F.max_pool2d``, ``F.dropout``),
and a ReLU may come right after them instead of before (the same function: both commute
with ReLU).

Every check raises ``AssertionError`` with one plain sentence for the student, measures
everything itself, and leaves the model's train/eval mode and the random state as it
found them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .data import labels_of
from .grading import expect

#: Layers that do not appear in a specification: the grader checks them through "input".
UNLISTED = (nn.ReLU, nn.Flatten, nn.Identity)
RELATIONS = {
    "image": "the input image",
    "previous": "the output",
    "relu": "the ReLU of the output",
    "flatten": "the flattened output",
}
PAIR_KEYS = ("kernel_size", "stride", "padding", "dilation")


def quiet(check: Callable) -> Callable:
    """Silence warnings while a check runs: nbgrader scores a test cell 0 when anything
    reaches stderr, even a warning raised inside the student's code."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return check(*args, **kwargs)
    return wrapper


def as_number(value, what: str) -> float:
    """A Python float from a number or a one-element tensor (detached, no warning)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"{what} should be a number, not {value!r}.") from None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


#: Functional calls that stand for a layer (``F.max_pool2d(x, 2)`` for ``nn.MaxPool2d(2)``),
#: with the names of their positional arguments after the input.
FUNCTIONAL = {
    "max_pool2d": ("MaxPool2d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "dropout": ("Dropout", ("p", "training", "inplace")),
}
#: Layers that give the same result whether a ReLU comes before or right after them.
COMMUTE_WITH_RELU = ("MaxPool2d", "Dropout")


class FunctionalLayer:
    """A functional call seen as the layer it stands for: ``kind`` is the layer's class name
    and the call's arguments are attributes named as the layer's (``kernel_size``, ``p``)."""

    def __init__(self, kind: str, settings: Mapping):
        self.kind = kind
        self.training = settings.get("training", settings.get("train", True))
        self.p = settings.get("p", 0.5)
        self.kernel_size = settings.get("kernel_size")
        self.stride = settings.get("stride") or self.kernel_size  # None or [] means the kernel size
        self.padding = settings.get("padding", 0)
        self.dilation = settings.get("dilation", 1)


@dataclass(frozen=True)
class Call:
    """One layer call seen during a forward pass (inputs and outputs are copies)."""

    name: str
    module: nn.Module | FunctionalLayer
    input: torch.Tensor
    output: torch.Tensor

    @property
    def kind(self) -> str:
        """The layer's class name (``"MaxPool2d"`` for ``F.max_pool2d`` too)."""
        return self.module.kind if isinstance(self.module, FunctionalLayer) else type(self.module).__name__

    def describe(self) -> str:
        if isinstance(self.module, FunctionalLayer):
            return self.name
        return f"{self.kind} ('{self.name}')"


@contextlib.contextmanager
def _mode(model: nn.Module, training: bool):
    """Run with the model in train or eval mode; restore its mode afterwards."""
    before = {module: module.training for module in model.modules()}
    model.train(training)
    try:
        yield model
    finally:
        for module, flag in before.items():
            module.training = flag


def _device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@quiet
def build(model_class: Callable, *args, **kwargs) -> nn.Module:
    """``model_class(*args, **kwargs)``, created without touching the global random stream,
    so a hidden test does not change what the rest of the notebook trains."""
    with torch.random.fork_rng(devices=[]):
        try:
            return model_class(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (the student's __init__ failed)
            call = f"{getattr(model_class, '__name__', 'the model')}({', '.join(map(repr, args))})"
            detail = f": {error}".rstrip(".") if str(error) else ""
            raise AssertionError(f"{call} could not be created: {type(error).__name__}{detail}.") from None


def probe_images(batch: int = 4, seed: int = 0) -> torch.Tensor:
    """A fixed batch of random images (batch, 1, 28, 28) in [0, 1]."""
    return torch.rand(batch, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


class _FunctionalRecorder(TorchFunctionMode):
    """Records the functional calls of :data:`FUNCTIONAL` made outside a recorded layer
    (inside ``nn.MaxPool2d`` the same call is the module's own)."""

    def __init__(self, calls: list[Call], depth: list[int]):
        super().__init__()
        self.calls, self.depth = calls, depth

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name not in FUNCTIONAL or self.depth[0] or not args or not isinstance(args[0], torch.Tensor):
            return func(*args, **kwargs)
        seen = args[0].detach().clone()
        output = func(*args, **kwargs)
        if isinstance(output, torch.Tensor):
            kind, names = FUNCTIONAL[name]
            settings = {**dict(zip(names, args[1:])), **kwargs}
            self.calls.append(Call(f"F.{name}", FunctionalLayer(kind, settings), seen,
                                   output.detach().clone()))
        return output


def trace(model: nn.Module, images: torch.Tensor) -> tuple[list[Call], torch.Tensor]:
    """Run ``model(images)`` without gradients and record every call of a leaf layer
    other than ReLU/Flatten/Identity, and every functional pooling or dropout call, in
    order. Returns the calls and the model output."""
    calls: list[Call] = []
    depth = [0]
    handles = []

    def enter(module, args):
        depth[0] += 1

    def record(name):
        def hook(module, args, output):
            depth[0] -= 1
            if args and isinstance(args[0], torch.Tensor) and isinstance(output, torch.Tensor):
                calls.append(Call(name, module, args[0].detach().clone(), output.detach().clone()))
        return hook

    for name, module in model.named_modules():
        if not list(module.children()) and not isinstance(module, UNLISTED):
            handles.append(module.register_forward_pre_hook(enter))
            handles.append(module.register_forward_hook(record(name or type(module).__name__)))
    try:
        with torch.no_grad(), _FunctionalRecorder(calls, depth):
            output = model(images.to(_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    return calls, output


def _normalise(key: str, value):
    if key in PAIR_KEYS and isinstance(value, int):
        return (value, value)
    return tuple(value) if isinstance(value, list) else value


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.float().cpu(), b.float().cpu(), atol=1e-5)


def _expected_input(relation: str, images: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
    """What feeds a layer, from the previous layer's output (None before the first layer)."""
    if relation == "image" or previous is None:
        return images
    if relation == "previous":
        return previous
    if relation == "relu":
        return torch.relu(previous)
    if relation == "flatten":
        return previous.flatten(1)
    raise ValueError(f"Unknown input relation {relation!r}; use one of {sorted(RELATIONS)}.")


def _fed_by(call: Call, relation: str, images: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor | None:
    """The output the next layer should see when ``call`` takes its input as ``relation``
    says, or None when it does not. A ReLU may come right after a layer that commutes with
    it instead of before: then the next layer must see the ReLU of this one's output."""
    if _same(call.input, _expected_input(relation, images, previous)):
        return call.output
    if relation == "relu" and call.kind in COMMUTE_WITH_RELU and _same(call.input, previous):
        return torch.relu(call.output)
    return None


@quiet
def check_layers(model: nn.Module, spec: Sequence[Mapping], what: str = "the model",
                 batch: int = 4) -> None:
    """The forward pass calls exactly the layers in ``spec``, in order, each with the
    settings, output shape and input it names, and returns the last layer's output
    (raw logits). Checked in eval mode, so Dropout passes its input through."""
    expect(isinstance(model, nn.Module), f"{_cap(what)} should be an nn.Module, but it is {type(model).__name__}.")
    images = probe_images(batch)
    with _mode(model, False):
        try:
            calls, output = trace(model, images)
        except Exception as error:  # noqa: BLE001 (the student's forward failed)
            raise AssertionError(f"{_cap(what)} should accept a batch of shape ({batch}, 1, 28, 28), "
                                 f"but its forward pass failed: {type(error).__name__}: {error}") from None
    wanted_names = ", ".join(layer["type"] for layer in spec)
    found_names = ", ".join(call.describe() for call in calls) or "none"
    expect(len(calls) == len(spec),
           f"{_cap(what)} should use these layers in its forward pass, in this order (ReLU and flatten "
           f"not counted): {wanted_names}; yours uses {len(calls)}: {found_names}.")
    previous, feeds = None, None
    for index, (call, wanted) in enumerate(zip(calls, spec)):
        label = f"Layer {index + 1} of {what} ({call.describe()})"
        expect(call.kind == wanted["type"], f"{label} should be nn.{wanted['type']}.")
        for key, expected in wanted.items():
            if key in ("type", "input", "output_shape"):
                continue
            actual = _normalise(key, getattr(call.module, key, None))
            expected = _normalise(key, expected)
            expect(actual == expected, f"{label} should have {key}={expected!r}, but it has {actual!r}.")
        if "output_shape" in wanted:
            shape = tuple(call.output.shape[1:])
            expect(shape == tuple(wanted["output_shape"]),
                   f"{label} should give outputs of shape (batch, "
                   f"{', '.join(map(str, wanted['output_shape']))}), but gives (batch, "
                   f"{', '.join(map(str, shape))}).")
        relation = wanted.get("input")
        if relation == "image" or (relation and previous is None):
            expect(_same(call.input, images), f"{label} should take the model's input image.")
            feeds = call.output
        elif relation:
            feeds = _fed_by(call, relation, images, feeds)
            expect(feeds is not None,
                   f"{label} should take as input {RELATIONS[relation]} of layer {index} "
                   f"({previous.describe()}).")
        else:
            feeds = call.output
        previous = call
    expect(isinstance(output, torch.Tensor) and tuple(output.shape) == tuple(calls[-1].output.shape)
           and _same(output, calls[-1].output),
           f"{_cap(what)} should return the output of its last layer ({calls[-1].describe()}) "
           f"unchanged: raw logits of shape (batch, {calls[-1].output.shape[-1]}), no softmax.")


def param_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


@quiet
def check_param_count(model: nn.Module, expected: int, what: str = "the model") -> None:
    actual = param_count(model)
    expect(actual == expected, f"{_cap(what)} should have {expected:,} parameters, but it has {actual:,}.")


@quiet
def check_logits(model: nn.Module, classes: int = 10, batch: int = 3, what: str = "the model") -> None:
    """A forward pass on (batch, 1, 28, 28) gives float logits of shape (batch, classes)."""
    with _mode(model, False), torch.no_grad():
        output = model(probe_images(batch).to(_device(model)))
    expect(isinstance(output, torch.Tensor) and tuple(output.shape) == (batch, classes),
           f"{_cap(what)} should map a batch of shape ({batch}, 1, 28, 28) to logits of shape "
           f"({batch}, {classes}), but it gives {getattr(output, 'shape', type(output).__name__)}.")


@quiet
def check_dropout(model: nn.Module, p: float, what: str = "the model", batch: int = 8) -> None:
    """Dropout (``nn.Dropout`` or ``F.dropout``) applied exactly once, with probability
    ``p``, to the ReLU of a Linear layer's output (or before that ReLU), feeding the last
    Linear layer; it drops units in train mode and is off in eval mode."""
    images = probe_images(batch, seed=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        with _mode(model, True):
            calls, first = trace(model, images)
            _, second = trace(model, images)
        with _mode(model, False):
            eval_calls, third = trace(model, images)
            _, fourth = trace(model, images)
    found = [index for index, call in enumerate(calls) if call.kind == "Dropout"]
    expect(len(found) == 1, f"{_cap(what)} should apply dropout exactly once in forward() (nn.Dropout "
                            f"or F.dropout); it applies it {len(found)} times.")
    index = found[0]
    dropout = calls[index]
    expect(abs(dropout.module.p - p) < 1e-12,
           f"The dropout probability of {what} should be {p}, but it is {dropout.module.p}.")
    feeder = calls[index - 1] if index > 0 else None
    feeds = None
    if feeder is not None and isinstance(feeder.module, nn.Linear):
        feeds = _fed_by(dropout, "relu", images, feeder.output)
    expect(feeds is not None,
           f"The dropout layer of {what} should take the ReLU of the first fully connected layer's output.")
    expect(index + 1 < len(calls) and isinstance(calls[index + 1].module, nn.Linear)
           and index + 2 == len(calls) and _same(calls[index + 1].input, feeds),
           f"The dropout layer of {what} should feed the last fully connected layer (between fc1 and fc2).")
    if p > 0:
        seen_in, seen_out = dropout.input, dropout.output
        dropped = (seen_out == 0) & (seen_in != 0)
        expect(bool(dropped.any()) and not torch.equal(first, second),
               f"In train mode (model.train()) the dropout layer of {what} should zero some units.")
    off = all(_same(call.input, call.output) for call in eval_calls if call.kind == "Dropout")
    expect(torch.equal(third, fourth) and off,
           f"In eval mode (model.eval()) the dropout layer of {what} should let every unit through "
           f"(with F.dropout, pass training=self.training).")


@quiet
def check_optimizer(optimizer, model: nn.Module, kind: type = torch.optim.Adam, lr: float = 1e-3) -> None:
    """``optimizer`` is a ``kind`` with learning rate ``lr`` over all of ``model``'s parameters."""
    expect(isinstance(optimizer, kind),
           f"The optimizer should be torch.optim.{kind.__name__}, but it is {type(optimizer).__name__}.")
    rates = {group["lr"] for group in optimizer.param_groups}
    expect(rates == {lr}, f"The optimizer's learning rate should be {lr:g}, but it is {sorted(rates)}.")
    theirs = {id(p) for group in optimizer.param_groups for p in group["params"]}
    expect(theirs == {id(p) for p in model.parameters()},
           "The optimizer should update exactly the model's parameters: pass model.parameters().")


@quiet
def check_loss(criterion, kind: type = nn.CrossEntropyLoss) -> None:
    expect(isinstance(criterion, kind),
           f"The loss should be nn.{kind.__name__}(), but it is {type(criterion).__name__}.")


@quiet
def predict_labels(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """The model's predicted class per image, batch by batch, in eval mode, without gradients."""
    device = _device(model)
    with _mode(model, False), torch.no_grad():
        batches = [model(images[i:i + batch_size].to(device)).argmax(dim=1).cpu()
                   for i in range(0, len(images), batch_size)]
    return torch.cat(batches).numpy() if batches else np.zeros(0, dtype=np.int64)


@quiet
def accuracy(model: nn.Module, images: torch.Tensor, labels, batch_size: int = 1000) -> float:
    """Accuracy of ``model`` on ``images`` as measured by the grader."""
    expect(len(images) == len(labels), "Images and labels should have the same length.")
    labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else labels
    return float(np.mean(predict_labels(model, images, batch_size) == labels_of(labels)))


@quiet
def check_state_dict_file(path: str | os.PathLike, model: nn.Module) -> None:
    """``path`` holds ``model.state_dict()``: the same keys and the same values."""
    expect(os.path.isfile(path), f"The file {os.fspath(path)!r} should exist: save the model's "
                                 f"state_dict there with torch.save.")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (any unreadable file; PyTorch's message is a page long)
        raise AssertionError(f"{os.fspath(path)!r} should hold model.state_dict() saved with torch.save, "
                             f"but torch.load(..., weights_only=True) could not read it "
                             f"({type(error).__name__}; a whole pickled model cannot be read that way).") from None
    expect(isinstance(saved, Mapping) and all(isinstance(v, torch.Tensor) for v in saved.values()),
           f"{os.fspath(path)!r} should hold model.state_dict() (a dict of tensors), not the whole model.")
    wanted = model.state_dict()
    expect(list(saved.keys()) == list(wanted.keys()),
           f"The saved state_dict should have the keys of the model: {list(wanted)}.")
    expect(all(torch.equal(saved[k].cpu(), wanted[k].cpu()) for k in wanted),
           "The saved state_dict should hold the trained model's weights.")


@quiet
def check_same_weights(model: nn.Module, other: nn.Module, what: str) -> None:
    mine, theirs = model.state_dict(), other.state_dict()
    expect(list(mine) == list(theirs) and all(torch.equal(mine[k].cpu(), theirs[k].cpu()) for k in mine),
           f"{_cap(what)} should have the same weights as the trained model.")
