"""course_lib.torch_grading: every check passes a correct answer and fails the typical
wrong ones with a sentence that says what was expected."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

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


class PoolBeforeRelu(Net):
    def forward(self, x):
        x = F.relu(self.pool(self.conv1(x)))
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


def test_relu_in_the_wrong_place_and_softmax_output_fail():
    fails(tg.check_layers, PoolBeforeRelu(), CNN_SPEC, match="Layer 2 .*ReLU of the output of layer 1")
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
    fails(tg.check_dropout, Net(dropout=0.3, dropout_last=True), 0.3, match="ReLU of the first fully connected")
    fails(tg.check_dropout, Net(dropout=0.5), 0.3, match="should be 0.3, but it is 0.5")
    fails(tg.check_dropout, Net(), 0.3, match="exactly one nn.Dropout")


def test_dropout_check_does_not_disturb_the_random_stream():
    model = Net(dropout=0.3)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    tg.check_dropout(model, 0.3)
    assert torch.equal(torch.rand(3), expected)


# --- penalty --------------------------------------------------------------------------

def penalties(model, lambda1, lambda2):
    l1 = lambda1 * sum(p.abs().sum() for p in model.parameters())
    l2 = lambda2 * sum((p ** 2).sum() for p in model.parameters())
    return l1, l2


def test_the_penalty_function_is_checked_numerically():
    tg.check_penalty_function(penalties)


@pytest.mark.parametrize("wrong, match", [
    (lambda m, a, b: (a * sum(p.abs().sum() for p in m.parameters()),
                      b * sum(p.norm() for p in m.parameters())), "0.0525"),
    (lambda m, a, b: (a * m.weight.abs().sum(), b * (m.weight ** 2).sum()), "0.35"),
    (lambda m, a, b: tuple(float(v) for v in penalties(m, a, b)), "tensors"),
    (lambda m, a, b: penalties(m, a, b)[0], "pair"),
])
def test_wrong_penalties_fail(wrong, match):
    fails(tg.check_penalty_function, wrong, match=match)


# --- evaluate -------------------------------------------------------------------------

def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            predicted = model(images.to(device)).argmax(dim=1)
            correct += (predicted == labels.to(device)).sum().item()
            total += len(labels)
    return correct / total


def one_at_a_time(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            for image, label in zip(images, labels):
                correct += int(model(image[None]).argmax() == label)
                total += 1
    return correct / total


def without_no_grad(model, loader, device):
    model.eval()
    hits = [(model(x).argmax(1) == y).float() for x, y in loader]
    return torch.cat(hits).mean()


def in_train_mode(model, loader, device):
    with torch.no_grad():
        return torch.cat([(model(x).argmax(1) == y).float() for x, y in loader]).mean()


def percentage(model, loader, device):
    return 100 * evaluate(model, loader, device)


def test_evaluate_is_checked_behaviourally():
    tg.check_evaluate_function(evaluate)
    fails(tg.check_evaluate_function, one_at_a_time, match="whole batch")
    fails(tg.check_evaluate_function, without_no_grad, match="no_grad")
    fails(tg.check_evaluate_function, in_train_mode, match="eval mode")
    fails(tg.check_evaluate_function, percentage, match="fraction.*0.63.*returned 63")


# --- train_epoch ----------------------------------------------------------------------

def train_epoch(model, loader, optimizer, criterion, device, penalty=None):
    model.train()
    total = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def no_zero_grad(model, loader, optimizer, criterion, device, penalty=None):
    model.train()
    losses = []
    for images, labels in loader:
        loss = criterion(model(images), labels) + (penalty(model) if penalty else 0)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def ignores_penalty(model, loader, optimizer, criterion, device, penalty=None):
    return train_epoch(model, loader, optimizer, criterion, device)


def no_train_mode(model, loader, optimizer, criterion, device, penalty=None):
    result = train_epoch(model, loader, optimizer, criterion, device, penalty)
    return result


def returns_last_loss(model, loader, optimizer, criterion, device, penalty=None):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    return loss


def test_train_epoch_is_compared_with_the_reference_loop():
    tg.check_train_epoch_function(train_epoch)
    fails(tg.check_train_epoch_function, no_zero_grad, match="zero_grad")
    fails(tg.check_train_epoch_function, ignores_penalty, match="penalty")
    fails(tg.check_train_epoch_function, returns_last_loss, match="mean training loss")


def test_train_epoch_must_switch_to_train_mode():
    def stays_in_eval(model, loader, optimizer, criterion, device, penalty=None):
        for images, labels in loader:
            optimizer.zero_grad()
            criterion(model(images), labels).backward()
            optimizer.step()
        return 0.0
    fails(tg.check_train_epoch_function, stays_in_eval, match="model.train")


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
    fails(tg.check_state_dict_file, tmp_path / "whole.pt", model, match="could not be read|state_dict")
    fails(tg.check_state_dict_file, tmp_path / "ok.pt", Net(dropout=0.3), match="trained model's weights")
    fails(tg.check_state_dict_file, tmp_path / "missing.pt", model, match="should exist")


def test_checks_raise_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.check_penalty_function(penalties)
        tg.check_train_epoch_function(train_epoch)
        tg.check_evaluate_function(evaluate)


def test_build_leaves_the_random_stream_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    model = tg.build(Net, dropout=0.3)
    assert isinstance(model, Net) and model.dropout.p == 0.3
    assert torch.equal(torch.rand(3), expected)
