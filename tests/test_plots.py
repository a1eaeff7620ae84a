"""course_lib.plots: every function returns a labelled Figure and never shows it."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import plots


pytestmark = pytest.mark.usefixtures("never_show")


def assert_labelled(ax):
    assert ax.get_title(), "axis without a title"
    assert ax.get_xlabel(), f"axis {ax.get_title()!r} without an x label"
    assert ax.get_ylabel(), f"axis {ax.get_title()!r} without a y label"


def shown_images(fig):
    return [ax for ax in fig.axes if ax.images]


def suptitle(fig):
    return fig._suptitle.get_text() if fig._suptitle is not None else ""


# --- class_distribution ----------------------------------------------------------------

def test_class_distribution():
    labels = np.array([0, 0, 0, 1, 2, 2, 9])
    fig = plots.class_distribution(labels)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert_labelled(ax)
    heights = [int(bar.get_height()) for bar in ax.patches]
    assert heights == [3, 1, 2, 1]
    assert [t.get_text() for t in ax.texts] == ["3", "1", "2", "1"]  # counts on the bars


# --- sample_grid -----------------------------------------------------------------------

def test_sample_grid_shows_each_digit():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 3)
    images = rng.random((30, 28, 28))
    fig = plots.sample_grid(images, labels, per_class=2, title="Digits")
    assert isinstance(fig, Figure)
    assert suptitle(fig) == "Digits"
    axes = shown_images(fig)
    assert len(axes) == 20
    assert sorted(ax.get_title() for ax in axes) == sorted(f"label {d}" for d in range(10) for _ in range(2))
    first_zero = next(ax for ax in axes if ax.get_title() == "label 0")
    np.testing.assert_array_equal(first_zero.images[0].get_array(), images[0])


def test_sample_grid_accepts_channel_axis():
    images = np.zeros((10, 28, 28, 1))
    fig = plots.sample_grid(images, np.arange(10))
    assert len(shown_images(fig)) == 10
    assert shown_images(fig)[0].images[0].get_array().shape == (28, 28)


def test_sample_grid_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 images and 10 labels"):
        plots.sample_grid(np.zeros((3, 28, 28)), np.arange(10))


# --- training_history ------------------------------------------------------------------

HISTORY = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6],
           "accuracy": [0.6, 0.8, 0.9], "val_accuracy": [0.55, 0.75, 0.8]}


class FakeHistory:
    def __init__(self, history):
        self.history = history


@pytest.mark.parametrize("history", [HISTORY, FakeHistory(HISTORY)], ids=["dict", "object"])
def test_training_history(history):
    fig = plots.training_history(history)
    assert isinstance(fig, Figure)
    assert suptitle(fig) == "Training history"
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("loss", "accuracy")):
        assert_labelled(ax)
        assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() == metric
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {f"training {metric}", f"validation {metric}"}
        np.testing.assert_array_equal(lines[f"training {metric}"].get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(lines[f"validation {metric}"].get_ydata(), HISTORY[f"val_{metric}"])
        assert ax.get_legend() is not None


def test_training_history_without_validation_or_missing_metric():
    fig = plots.training_history({"loss": [0.9, 0.4]})
    assert len(fig.axes) == 1
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["training loss"]


@pytest.mark.parametrize("bad", [{}, {"mse": [1.0]}, FakeHistory({})])
def test_training_history_rejects_history_without_metrics(bad):
    with pytest.raises(ValueError, match="none of"):
        plots.training_history(bad)


# --- confusion_matrix ------------------------------------------------------------------

def test_confusion_matrix():
    cm = np.array([[5, 1, 0], [2, 7, 0], [0, 3, 9]])
    fig = plots.confusion_matrix(cm, class_names=["a", "b", "c"])
    assert isinstance(fig, Figure)
    ax, colorbar = fig.axes
    assert_labelled(ax)
    assert colorbar.get_ylabel() == "Number of images"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    counts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert counts == {(r, c): str(cm[r, c]) for r in range(3) for c in range(3)}
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)


def test_confusion_matrix_default_names():
    fig = plots.confusion_matrix(np.eye(10, dtype=int))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [str(i) for i in range(10)]


@pytest.mark.parametrize("cm, names, match", [
    (np.zeros(3), None, "square"),
    (np.zeros((3, 4)), None, "square"),
    (np.zeros((3, 3)), ["a"], "3 class names"),
])
def test_confusion_matrix_rejects_bad_input(cm, names, match):
    with pytest.raises(ValueError, match=match):
        plots.confusion_matrix(cm, class_names=names)


# --- conv_filters ----------------------------------------------------------------------

def test_conv_filters_keras_and_torch_layouts_agree():
    rng = np.random.default_rng(1)
    keras_kernel = rng.normal(size=(3, 3, 1, 10))            # (h, w, in, out)
    torch_weight = keras_kernel.transpose(3, 2, 0, 1)         # (out, in, h, w)
    fig_k = plots.conv_filters(keras_kernel, columns=4)
    fig_t = plots.conv_filters(torch_weight, channels_last=False, columns=4)
    for fig in (fig_k, fig_t):
        assert isinstance(fig, Figure)
        assert "filters" in suptitle(fig)
        assert len(fig.axes) == 12  # 3 rows of 4
        assert len(shown_images(fig)) == 10
        assert [ax.get_title() for ax in shown_images(fig)] == [f"filter {i}" for i in range(10)]
    for ax_k, ax_t in zip(shown_images(fig_k), shown_images(fig_t)):
        np.testing.assert_array_equal(ax_k.images[0].get_array(), ax_t.images[0].get_array())
    np.testing.assert_array_equal(shown_images(fig_k)[2].images[0].get_array(), keras_kernel[:, :, 0, 2])


def test_conv_filters_rejects_bad_shape():
    with pytest.raises(ValueError, match="4-D"):
        plots.conv_filters(np.zeros((3, 3, 8)))


# --- misclassified ---------------------------------------------------------------------

def probabilities_for(predictions, confidence=0.8):
    probs = np.full((len(predictions), 10), (1 - confidence) / 9)
    probs[np.arange(len(predictions)), predictions] = confidence
    return probs


def test_misclassified_shows_only_wrong_predictions():
    y_true = np.array([0, 1, 2, 3, 4, 5])
    y_pred = np.array([0, 7, 2, 8, 4, 5])
    images = np.arange(6)[:, None, None] * np.ones((6, 28, 28))
    fig = plots.misclassified(images, y_true, probabilities_for(y_pred), columns=3)
    assert isinstance(fig, Figure)
    assert suptitle(fig) == "Misclassified test images"
    axes = shown_images(fig)
    assert [ax.get_title() for ax in axes] == ["true 1, pred 7\nconfidence 80%",
                                               "true 3, pred 8\nconfidence 80%"]
    assert axes[1].images[0].get_array()[0, 0] == 3  # image 3 is the second mistake


def test_misclassified_accepts_one_hot_labels_and_count():
    y_true = np.arange(10)
    y_pred = (y_true + 1) % 10
    fig = plots.misclassified(np.zeros((10, 28, 28)), np.eye(10)[y_true], probabilities_for(y_pred),
                              count=4)
    assert len(shown_images(fig)) == 4
    assert shown_images(fig)[0].get_title().startswith("true 0, pred 1")


def test_misclassified_when_all_correct():
    y = np.arange(5)
    fig = plots.misclassified(np.zeros((5, 28, 28)), y, probabilities_for(y))
    assert shown_images(fig) == []
    assert suptitle(fig).endswith(": none")


@pytest.mark.parametrize("y_true, probs", [
    (np.arange(4), probabilities_for(np.arange(3))),   # lengths differ
    (np.arange(3), np.arange(3)),                      # labels given instead of probabilities
])
def test_misclassified_rejects_bad_input(y_true, probs):
    with pytest.raises(ValueError, match="probabilities"):
        plots.misclassified(np.zeros((3, 28, 28)), y_true, probs)
