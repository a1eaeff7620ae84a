"""course_lib.plots, PA4's helpers: labelled Figures, the right curves, clear errors."""

from __future__ import annotations

import matplotlib.colors
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import plots


pytestmark = pytest.mark.usefixtures("never_show")


def history(n=4, start=0.5):
    acc = list(np.linspace(start, 0.99, n))
    return {"loss": [1 - a for a in acc], "accuracy": acc,
            "val_loss": [1.1 - a for a in acc], "val_accuracy": [a - 0.05 for a in acc]}


def line_data(ax):
    return [list(line.get_ydata()) for line in ax.get_lines()]


def test_sample_predictions_titles_each_image_green_when_right_red_when_wrong():
    rng = np.random.default_rng(0)
    images = rng.random((5, 28, 28, 1))
    labels = np.eye(10)[[1, 2, 3, 4, 5]]          # one-hot labels are accepted
    probabilities = np.eye(10)[[1, 2, 0, 4, 0]] * 0.9 + 0.01
    fig = plots.plot_sample_predictions(images, labels, probabilities, count=5, columns=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5
    colours = [matplotlib.colors.to_hex(ax.title.get_color()) for ax in shown]
    green, red = matplotlib.colors.to_hex("tab:green"), matplotlib.colors.to_hex("tab:red")
    assert colours == [green, green, red, green, red]
    assert shown[2].get_title().startswith("true 3, pred 0")
    assert "3 of 5 correct" in fig._suptitle.get_text()


def test_sample_predictions_rejects_mismatched_input():
    with pytest.raises(ValueError, match="probabilities"):
        plots.plot_sample_predictions(np.zeros((3, 28, 28)), np.arange(3), np.zeros((2, 10)))
    with pytest.raises(ValueError, match="no images"):
        plots.plot_sample_predictions(np.zeros((0, 28, 28)), np.zeros(0, int), np.zeros((0, 10)))


GRID = [
    {"optimizer_name": opt, "learning_rate": lr, "batch_size": bs, "final_val_acc": acc}
    for (opt, lr, bs), acc in zip(
        [("adam", 1e-3, 32), ("adam", 1e-2, 32), ("sgd", 1e-3, 32), ("sgd", 1e-2, 32),
         ("adam", 1e-3, 128), ("adam", 1e-2, 128), ("sgd", 1e-3, 128), ("sgd", 1e-2, 128)],
        [0.90, 0.80, 0.50, 0.70, 0.92, 0.84, 0.40, 0.60])
]


def test_grid_search_plot_has_one_line_per_colour_value_averaging_the_rest():
    fig = plots.plot_grid_search_results(GRID, "learning_rate", "optimizer_name", "final_val_acc")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["optimizer_name = adam", "optimizer_name = sgd"]
    assert np.allclose(line_data(ax), [[0.91, 0.82], [0.45, 0.65]])   # batch sizes averaged
    assert ax.get_xlabel() == "learning_rate" and ax.get_ylabel() == "final_val_acc"
    assert "mean over the other parameters" in ax.get_title()
    assert ax.get_xscale() == "log"                                   # 1e-3 .. 1e-2


def test_grid_search_plot_takes_categorical_x_and_no_averaging_when_unique():
    rows = [r for r in GRID if r["learning_rate"] == 1e-3]
    fig = plots.plot_grid_search_results(rows, "optimizer_name", "batch_size", "final_val_acc")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["adam", "sgd"]
    assert np.allclose(line_data(ax), [[0.90, 0.50], [0.92, 0.40]])
    assert "mean" not in ax.get_title()


def test_grid_search_plot_names_a_missing_key():
    with pytest.raises(ValueError, match="'final_val_loss'"):
        plots.plot_grid_search_results(GRID, "learning_rate", "batch_size", "final_val_loss")
    with pytest.raises(ValueError, match="no grid-search results"):
        plots.plot_grid_search_results([], "learning_rate", "batch_size")


def test_overfitting_comparison_one_panel_per_scenario_with_the_gap():
    scenarios = {"baseline": history(3), "overfitting": history(5, 0.2)}
    fig = plots.plot_overfitting_comparison(scenarios, metric="accuracy")
    assert len(fig.axes) == 2
    for ax, (name, logs) in zip(fig.axes, scenarios.items()):
        assert ax.get_title().startswith(name)
        assert f"{logs['accuracy'][-1] - logs['val_accuracy'][-1]:+.3f}" in ax.get_title()
        assert np.allclose(line_data(ax), [logs["accuracy"], logs["val_accuracy"]])
        assert ax.get_xlabel() == "Epoch"
    assert fig.axes[0].get_ylabel() == "accuracy"


def test_overfitting_comparison_needs_validation_curves():
    with pytest.raises(ValueError, match="val_loss"):
        plots.plot_overfitting_comparison({"x": {"loss": [1.0]}}, metric="loss")
    with pytest.raises(ValueError, match="no scenarios"):
        plots.plot_overfitting_comparison({})


def test_compare_optimizers_one_panel_per_metric_one_curve_per_optimizer():
    histories = {"sgd": history(3, 0.2), "adam": history(3, 0.6), "rmsprop": history(3, 0.5)}
    fig = plots.compare_optimizers(histories, metrics=["val_accuracy", "loss"])
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ["val_accuracy", "loss"]):
        assert ax.get_ylabel() == metric and ax.get_xlabel() == "Epoch" and ax.get_title()
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(histories)
        assert np.allclose(line_data(ax), [h[metric] for h in histories.values()])


def test_compare_optimizers_rejects_a_missing_metric():
    with pytest.raises(ValueError, match="'lr'"):
        plots.compare_optimizers({"sgd": history()}, metrics=["lr"])
    with pytest.raises(ValueError, match="at least one metric"):
        plots.compare_optimizers({"sgd": history()}, metrics=[])
