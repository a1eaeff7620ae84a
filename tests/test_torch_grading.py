"""course_lib.torch_grading: every check passes a correct answer and fails the typical
wrong ones with a sentence that says what was expected."""

from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F
from torch import nn

from checks import failure
from course_lib import torch_grading as tg

CNN_SPEC = [
    {"type": "Conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": (5, 5),
     "output_shape": (32, 24, 24), "input": "image"},
    {"type": "MaxPool2d", "kernel_size": 2, "output_shape": (32, 12, 12), "input": "relu"},
    {"type": "Conv2d", "in_channels": 32, "out_channels": 64, "kernel_size": (5, 5),
     "output_shape": (64, 8, 8), "input": "previous"},
    {"type": "MaxPool2d", "kernel_size": 2, "output_shape": (64, 4, 4), "input": "relu"},
    {"type": "Linear", "in_features": 1024, "out_features": 128, "input": "flatten"},
    {"type": "Linear", "in_features": 128, "out_features": 10, "input": "relu"},
]
DROPOUT_SPEC = CNN_SPEC[:5] + [
    {"type": "Dropout", "p": 0.3, "input": "relu"},
    {"type": "Linear", "in_features": 128, "out_features": 10, "input": "previous"},
]


class Net(nn.Module):
    """The E1 network written with functional ReLU and one shared pooling layer."""

    def __init__(self, kernel=5, flat=1024, dropout=None, dropout_last=False, softmax=False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=kernel)
        self.fc1 = nn.Linear(flat, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(dropout) if dropout is not None else None
        self.dropout_last, self.softmax = dropout_last, softmax

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        if self.dropout is not None and not self.dropout_last:
            x = self.dropout(x)
        x = self.fc2(x)
        if self.dropout is not None and self.dropout_last:
            x = self.dropout(x)
        return F.softmax(x, dim=1) if self.softmax else x


class SequentialNet(nn.Module):
    """The same network as nn.Sequential blocks with ReLU and Flatten modules."""

    def __init__(self, dropout=0.3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                                      nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(1024, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 10))

    def forward(self, x):
        return self.head(self.features(x))


class FunctionalNet(nn.Module):
    """The idiom of PyTorch's MNIST example: functional pooling, ReLU after pooling (the
    same function as before it), functional dropout, ``view`` to flatten."""

    def __init__(self, dropout=None):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 5), nn.Conv2d(32, 64, 5)
        self.fc1, self.fc2 = nn.Linear(1024, 128), nn.Linear(128, 10)
        self.p = dropout

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), kernel_size=2, stride=2)
        x = self.fc1(x.view(-1, 1024))
        if self.p is not None:
            x = F.dropout(x, self.p, training=self.training)
        return self.fc2(F.relu(x))


class AlwaysDropping(FunctionalNet):
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.dropout(F.relu(self.fc1(torch.flatten(x, 1))), self.p))


class NoReluAfterConv1(Net):
    def forward(self, x):
        x = self.pool(self.conv1(x))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class AveragePooling(Net):
    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.conv1(x)), 2)
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def fails(check, *args, match: str, **kwargs):
    with pytest.raises(AssertionError, match=match):
        check(*args, **kwargs)


# --- architecture ---------------------------------------------------------------------

def test_the_specified_network_passes_however_it_is_written():
    for model in (Net(), SequentialNet(dropout=0.3)):
        spec = CNN_SPEC if isinstance(model, Net) else DROPOUT_SPEC
        tg.check_layers(model, spec)
        tg.check_param_count(model, 184_586)
        tg.check_logits(model)


def test_a_3x3_kernel_fails_on_the_layer_that_has_it():
    fails(tg.check_layers, Net(kernel=3, flat=1600), CNN_SPEC, match=r"Layer 3 .*kernel_size=\(5, 5\)")
    fails(tg.check_param_count, Net(kernel=3, flat=1600), 184_586, match="184,586 parameters")


def test_functional_pooling_and_dropout_and_relu_after_pooling_pass():
    tg.check_layers(FunctionalNet(), CNN_SPEC)
    tg.check_layers(FunctionalNet(dropout=0.3), DROPOUT_SPEC)
    tg.check_dropout(FunctionalNet(dropout=0.3), 0.3)
    assert "F.max_pool2d" in failure(tg.check_layers, FunctionalNet(dropout=0.3), CNN_SPEC)


def test_a_missing_relu_other_pooling_and_softmax_output_fail():
    fails(tg.check_layers, NoReluAfterConv1(), CNN_SPEC, match="Layer 3 .*output of layer 2")
    fails(tg.check_layers, AveragePooling(), CNN_SPEC, match="yours uses 5")
    fails(tg.check_layers, Net(softmax=True), CNN_SPEC, match="raw logits")


def test_missing_or_extra_layers_are_listed():
    fails(tg.check_layers, Net(dropout=0.3), CNN_SPEC, match="yours uses 7: .*Dropout")
    fails(tg.check_layers, Net(), DROPOUT_SPEC, match="yours uses 6")


def test_a_forward_pass_that_crashes_is_reported():
    fails(tg.check_layers, Net(flat=1000), CNN_SPEC, match="forward pass failed")


def test_checks_leave_train_or_eval_mode_as_they_found_it():
    model = SequentialNet().train()
    tg.check_layers(model, DROPOUT_SPEC)
    tg.check_dropout(model, 0.3)
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    tg.check_dropout(model, 0.3)
    assert not any(m.training for m in model.modules())


# --- dropout --------------------------------------------------------------------------

def test_dropout_between_fc1_and_fc2_passes():
    tg.check_dropout(Net(dropout=0.3), 0.3)
    tg.check_dropout(SequentialNet(dropout=0.5), 0.5)


def test_dropout_after_fc2_or_with_another_probability_fails():
    fails(tg.check_dropout, Net(dropout=0.3, dropout_last=True), 0.3, match="between fc1 and fc2")
    fails(tg.check_dropout, Net(dropout=0.5), 0.3, match="should be 0.3, but it is 0.5")
    fails(tg.check_dropout, Net(), 0.3, match="exactly once")
    fails(tg.check_dropout, AlwaysDropping(dropout=0.5), 0.5, match="training=self.training")


def test_dropout_check_does_not_disturb_the_random_stream():
    model = Net(dropout=0.3)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    tg.check_dropout(model, 0.3)
    assert torch.equal(torch.rand(3), expected)


# --- optimizer, loss, accuracy, saving ------------------------------------------------

def test_optimizer_and_loss_checks():
    model = Net()
    tg.check_optimizer(torch.optim.Adam(model.parameters(), lr=1e-3), model)
    tg.check_loss(nn.CrossEntropyLoss())
    fails(tg.check_optimizer, torch.optim.SGD(model.parameters(), lr=1e-3), model, match="Adam")
    fails(tg.check_optimizer, torch.optim.Adam(model.parameters(), lr=1e-2), model, match="0.001")
    fails(tg.check_optimizer, torch.optim.Adam(Net().parameters(), lr=1e-3), model, match="model.parameters")
    fails(tg.check_loss, nn.NLLLoss(), match="CrossEntropyLoss")


def test_accuracy_is_measured_in_eval_mode_and_restores_the_mode():
    model = Net(dropout=0.9).train()
    images = tg.probe_images(50, seed=2)
    labels = tg.predict_labels(model, images)
    assert model.training
    assert tg.accuracy(model, images, torch.from_numpy(labels)) == 1.0
    assert tg.accuracy(model, images, (labels + 1) % 10) == 0.0


def test_state_dict_file(tmp_path):
    model = Net(dropout=0.3)
    torch.save(model.state_dict(), tmp_path / "ok.pt")
    tg.check_state_dict_file(tmp_path / "ok.pt", model)
    torch.save(model, tmp_path / "whole.pt")
    assert "whole pickled model" in failure(tg.check_state_dict_file, tmp_path / "whole.pt", model)
    fails(tg.check_state_dict_file, tmp_path / "ok.pt", Net(dropout=0.3), match="trained model's weights")
    fails(tg.check_state_dict_file, tmp_path / "missing.pt", model, match="should exist")


def test_build_leaves_the_random_stream_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    model = tg.build(Net, dropout=0.3)
    assert isinstance(model, Net) and model.dropout.p == 0.3
    assert torch.equal(torch.rand(3), expected)
