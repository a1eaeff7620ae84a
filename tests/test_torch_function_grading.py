"""course_lib.torch_function_grading: the checks of the student's train_epoch, evaluate and
penalties pass a correct function and fail the typical wrong ones with a sentence that says
what was expected."""

from __future__ import annotations

import warnings

import pytest
import torch

from checks import failure
from course_lib import torch_function_grading as tfg


def fails(check, *args, match: str):
    with pytest.raises(AssertionError, match=match):
        check(*args)


# --- penalty --------------------------------------------------------------------------

def penalties(model, lambda1, lambda2):
    l1 = lambda1 * sum(p.abs().sum() for p in model.parameters())
    l2 = lambda2 * sum((p ** 2).sum() for p in model.parameters())
    return l1, l2


def test_the_penalty_function_is_checked_numerically():
    tfg.check_penalty_function(penalties)


@pytest.mark.parametrize("wrong, match", [
    (lambda m, a, b: (a * sum(p.abs().sum() for p in m.parameters()),
                      b * sum(p.norm() for p in m.parameters())), "0.0525"),
    (lambda m, a, b: (a * m.weight.abs().sum(), b * (m.weight ** 2).sum()), "0.35"),
    (lambda m, a, b: tuple(float(v) for v in penalties(m, a, b)), "tensors"),
    (lambda m, a, b: penalties(m, a, b)[0], "pair"),
])
def test_wrong_penalties_fail(wrong, match):
    fails(tfg.check_penalty_function, wrong, match=match)


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
    tfg.check_evaluate_function(evaluate)
    fails(tfg.check_evaluate_function, one_at_a_time, match="whole batch")
    fails(tfg.check_evaluate_function, without_no_grad, match="no_grad")
    fails(tfg.check_evaluate_function, in_train_mode, match="eval mode")
    fails(tfg.check_evaluate_function, percentage, match="fraction.*0.63.*returned 63")


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
    tfg.check_train_epoch_function(train_epoch)
    fails(tfg.check_train_epoch_function, no_zero_grad, match="zero_grad")
    fails(tfg.check_train_epoch_function, ignores_penalty, match="penalty")
    fails(tfg.check_train_epoch_function, returns_last_loss, match="mean training loss")


def test_train_epoch_must_switch_to_train_mode():
    def stays_in_eval(model, loader, optimizer, criterion, device, penalty=None):
        for images, labels in loader:
            optimizer.zero_grad()
            criterion(model(images), labels).backward()
            optimizer.step()
        return 0.0
    fails(tfg.check_train_epoch_function, stays_in_eval, match="model.train")


def test_checks_raise_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tfg.check_penalty_function(penalties)
        tfg.check_train_epoch_function(train_epoch)
        tfg.check_evaluate_function(evaluate)


# --- the course's versions stand in for a failed function ----------------------------

def unpacks_two_outputs(model, loader, optimizer, criterion, device, penalty=None):
    """The original exercise's broken line: the model returns one tensor, not a pair."""
    model.train()
    for images, labels in loader:
        outputs, _ = model(images)
    return 0.0


def test_the_course_versions_pass_their_own_checks():
    for name, (check, reference) in tfg.STAND_INS.items():
        check(reference)


def test_a_crash_in_the_students_function_is_one_sentence():
    message = failure(tfg.check_train_epoch_function, unpacks_two_outputs)
    assert message.startswith("train_epoch failed") and "ValueError" in message


def test_a_failed_function_is_replaced_for_the_cells_after_its_test(monkeypatch):
    notes = []
    monkeypatch.setattr(tfg.grading, "used_stand_in", lambda part, reason: notes.append((part, reason)))
    namespace = {"train_epoch": unpacks_two_outputs, "evaluate": evaluate}
    with pytest.raises(AssertionError, match="ValueError"):
        tfg.check_or_stand_in("train_epoch", namespace, "Task 3")
    tfg.check_or_stand_in("evaluate", namespace, "Task 4")
    assert namespace["train_epoch"] is tfg.reference_train_epoch
    assert namespace["evaluate"] is evaluate
    tfg.note_stand_ins(namespace, "train_epoch", "evaluate")
    assert notes == [("the course's train_epoch", "your train_epoch failed its own test above")]


def test_a_missing_function_names_its_task():
    namespace = {}
    assert "Task 6" in failure(tfg.check_or_stand_in, "penalties", namespace, "Task 6")
    assert namespace["penalties"] is tfg.reference_penalties
