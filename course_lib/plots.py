"""Matplotlib figures for the notebooks.

Every function returns the Figure and never calls ``plt.show()``: in a notebook the
figure is displayed because it is the cell's last value (or call ``plt.show()``). Every
axis gets a title and labels. No seaborn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .data import labels_of


def _history_dict(history) -> Mapping[str, Sequence[float]]:
    """A Keras History, or a plain dict of per-epoch lists."""
    return history.history if hasattr(history, "history") else history


def _label_metric_axis(ax, metric: str) -> None:
    """Title, axis labels, legend and a light grid for a per-epoch metric panel."""
    ax.set(title=metric.replace("_", " ").capitalize(), xlabel="Epoch", ylabel=metric)
    ax.legend()
    ax.grid(alpha=0.3)


def _check_predictions(images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray) -> None:
    if probabilities.ndim != 2 or not len(images) == len(y_true) == len(probabilities):
        raise ValueError(f"Expected images (N, ...), labels (N,) and probabilities (N, classes); "
                         f"got shapes {images.shape}, {y_true.shape} and {probabilities.shape}.")


def class_distribution(labels: np.ndarray, title: str = "Images per class"):
    """Bar chart of how many images each digit has, with the count on each bar."""
    classes, counts = np.unique(np.asarray(labels), return_counts=True)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.bar(classes, counts, color="tab:blue")
    ax.bar_label(bars, fontsize=8)
    ax.set(title=title, xlabel="Digit", ylabel="Number of images", xticks=classes)
    fig.tight_layout()
    return fig


def sample_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 1,
                title: str = "One example of each digit"):
    """The first ``per_class`` images of each digit, one column per digit."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"Expected as many images as labels (at least one); got {len(images)} "
                         f"images and {len(labels)} labels.")
    classes = np.unique(labels)
    fig, axes = plt.subplots(per_class, len(classes), figsize=(1.2 * len(classes), 1.4 * per_class),
                             squeeze=False)
    for col, digit in enumerate(classes):
        picks = np.flatnonzero(labels == digit)[:per_class]
        for row in range(per_class):
            ax = axes[row, col]
            ax.axis("off")
            if row < len(picks):
                ax.imshow(np.squeeze(images[picks[row]]), cmap="gray")
                ax.set_title(f"label {digit}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def training_history(history, metrics: Sequence[str] = ("loss", "accuracy"),
                     title: str = "Training history"):
    """One panel per metric: training and validation curves against the epoch."""
    logs = _history_dict(history)
    present = [m for m in metrics if m in logs]
    if not present:
        raise ValueError(f"The history has none of {list(metrics)}; it has {sorted(logs)}.")
    fig, axes = plt.subplots(1, len(present), figsize=(5 * len(present), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], present):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", label=f"training {metric}")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s--", label=f"validation {metric}")
        _label_metric_axis(ax, metric)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(cm: np.ndarray, class_names: Sequence[str] | None = None,
                     title: str = "Confusion matrix (test set)"):
    """Heat map of a confusion matrix (rows: true class, columns: predicted) with counts."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"Expected a square confusion matrix, got shape {cm.shape}.")
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(cm))]
    if len(names) != len(cm):
        raise ValueError(f"Expected {len(cm)} class names, got {len(names)}.")
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(cm, cmap="Blues")
    fig.colorbar(image, ax=ax, label="Number of images")
    threshold = cm.max() / 2 if cm.size else 0
    for (row, col), count in np.ndenumerate(cm):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=8,
                color="white" if count > threshold else "black")
    ax.set(title=title, xlabel="Predicted digit", ylabel="True digit",
           xticks=range(len(names)), yticks=range(len(names)),
           xticklabels=names, yticklabels=names)
    fig.tight_layout()
    return fig


def conv_filters(kernels: np.ndarray, channels_last: bool = True, columns: int = 8,
                 title: str = "Learned filters of the first convolution"):
    """Show first-layer filters. Keras kernels are (h, w, in, out); PyTorch weights are
    (out, in, h, w): pass ``channels_last=False`` for those. Only input channel 0 is shown."""
    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        raise ValueError(f"Expected a 4-D convolution kernel, got shape {kernels.shape}.")
    filters = kernels[:, :, 0, :].transpose(2, 0, 1) if channels_last else kernels[:, 0]
    rows = int(np.ceil(len(filters) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.3 * rows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(filters):
            ax.imshow(filters[index], cmap="RdBu_r")
            ax.set_title(f"filter {index}", fontsize=7)
    fig.suptitle(f"{title} (red: positive weights, blue: negative)")
    fig.tight_layout()
    return fig


def misclassified(images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray,
                  count: int = 12, columns: int = 6,
                  title: str = "Misclassified test images"):
    """The first ``count`` misclassified images with true label, prediction and confidence."""
    images, y_true, probabilities = map(np.asarray, (images, y_true, probabilities))
    y_true = labels_of(y_true)  # one-hot labels too
    _check_predictions(images, y_true, probabilities)
    y_pred = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)[:count]
    rows = max(1, int(np.ceil(len(wrong) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(1.8 * columns, 2.1 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, wrong):
        ax.imshow(np.squeeze(images[index]), cmap="gray")
        ax.set_title(f"true {y_true[index]}, pred {y_pred[index]}\n"
                     f"confidence {probabilities[index, y_pred[index]]:.0%}", fontsize=8)
    fig.suptitle(title if len(wrong) else f"{title}: none")
    fig.tight_layout()
    return fig


# --- PA4: training dynamics -------------------------------------------------------------

def plot_sample_predictions(images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray,
                            count: int = 12, columns: int = 6,
                            title: str = "Sample predictions"):
    """The first ``count`` images with true label, prediction and confidence; correct
    predictions titled in green, mistakes in red. Labels may be integers or one-hot."""
    images, probabilities = np.asarray(images), np.asarray(probabilities)
    y_true = labels_of(y_true)
    _check_predictions(images, y_true, probabilities)
    shown = min(count, len(images))
    if shown < 1:
        raise ValueError("There are no images to show.")
    y_pred = probabilities.argmax(axis=1)
    rows = int(np.ceil(shown / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.8 * columns, 2.1 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for index, ax in zip(range(shown), axes.flat):
        ax.imshow(np.squeeze(images[index]), cmap="gray")
        right = y_pred[index] == y_true[index]
        ax.set_title(f"true {y_true[index]}, pred {y_pred[index]}\n"
                     f"confidence {probabilities[index, y_pred[index]]:.0%}", fontsize=8,
                     color="tab:green" if right else "tab:red")
    correct = int(np.sum(y_pred[:shown] == y_true[:shown]))
    fig.suptitle(f"{title}: {correct} of {shown} correct (green: right, red: wrong)")
    fig.tight_layout()
    return fig


def plot_grid_search_results(results: Sequence[Mapping], x_param: str, color_param: str,
                             metric: str = "final_val_acc",
                             title: str = "Grid search results"):
    """``metric`` against ``x_param``, one line per value of ``color_param``. Results that
    share both values (other parameters differ) are averaged, and the caption says so."""
    results = list(results)
    if not results:
        raise ValueError("There are no grid-search results to plot.")
    for key in (x_param, color_param, metric):
        missing = [i for i, row in enumerate(results) if key not in row]
        if missing:
            raise ValueError(f"Result {missing[0]} has no {key!r}; it has {sorted(results[missing[0]])}.")
    def order(value):
        return (isinstance(value, str), value if isinstance(value, str) else float(value))

    x_values = sorted({row[x_param] for row in results}, key=order)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in x_values)
    position = {v: (float(v) if numeric else i) for i, v in enumerate(x_values)}
    groups: dict = {}
    for row in results:
        groups.setdefault(row[color_param], {}).setdefault(row[x_param], []).append(float(row[metric]))
    averaged = any(len(scores) > 1 for by_x in groups.values() for scores in by_x.values())
    fig, ax = plt.subplots(figsize=(7, 4))
    for colour_value, by_x in sorted(groups.items(), key=lambda item: order(item[0])):
        xs = sorted(by_x, key=lambda v: position[v])
        ax.plot([position[v] for v in xs], [np.mean(by_x[v]) for v in xs], "o-",
                label=f"{color_param} = {colour_value}")
    if numeric and min(x_values) > 0 and max(x_values) / min(x_values) >= 10:
        ax.set_xscale("log")
    ax.set_xticks([position[v] for v in x_values], [str(v) for v in x_values])
    ax.set(title=title + (" (mean over the other parameters)" if averaged else ""),
           xlabel=x_param, ylabel=metric)
    ax.legend(title=color_param)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_overfitting_comparison(scenarios: Mapping[str, object], metric: str = "accuracy",
                                title: str = "Training vs validation"):
    """One panel per scenario (name -> History or dict): training and validation
    ``metric`` against the epoch, on a shared y axis, with the final gap in the title."""
    if not scenarios:
        raise ValueError("There are no scenarios to compare.")
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4.5 * len(scenarios), 3.6),
                             squeeze=False, sharey=True)
    for ax, (name, history) in zip(axes[0], scenarios.items()):
        logs = _history_dict(history)
        if metric not in logs or f"val_{metric}" not in logs:
            raise ValueError(f"Scenario {name!r} needs {metric!r} and 'val_{metric}' in its "
                             f"history; it has {sorted(logs)}.")
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", markersize=3, label=f"training {metric}")
        ax.plot(epochs, logs[f"val_{metric}"], "s--", markersize=3, label=f"validation {metric}")
        gap = logs[metric][-1] - logs[f"val_{metric}"][-1]
        ax.set(title=f"{name}\nfinal gap (train - val) {gap:+.3f}", xlabel="Epoch")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(metric)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_optimizers(histories: Mapping[str, object],
                       metrics: Sequence[str] = ("val_loss", "val_accuracy"),
                       title: str = "Optimizer comparison"):
    """One panel per metric, one curve per optimizer (name -> History or dict)."""
    if not histories:
        raise ValueError("There are no histories to compare.")
    if not metrics:
        raise ValueError("Name at least one metric to plot.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for name, history in histories.items():
            logs = _history_dict(history)
            if metric not in logs:
                raise ValueError(f"The history of {name!r} has no {metric!r}; it has {sorted(logs)}.")
            ax.plot(np.arange(1, len(logs[metric]) + 1), logs[metric], "o-", markersize=3, label=name)
        _label_metric_axis(ax, metric)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def epoch_log(history: Mapping[str, Sequence[float]], title: str = "Training log"):
    """Curves of a per-epoch log with keys ``loss``, ``accuracy``, ``test_loss``,
    ``test_accuracy`` and optionally ``lr`` (see ``keras_training.EpochLog``): loss and
    accuracy panels with train and test curves, and the learning rate when it is there."""
    panels = [("loss", "Loss", "cross-entropy"), ("accuracy", "Accuracy", "accuracy")]
    if history.get("lr"):
        panels.append(("lr", "Learning rate", "learning rate"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.5), squeeze=False)
    for ax, (key, name, ylabel) in zip(axes[0], panels):
        epochs = np.arange(1, len(history[key]) + 1)
        if key == "lr":
            ax.plot(epochs, history[key], "o-", color="tab:green", label="learning rate at epoch end")
        else:
            ax.plot(epochs, history[key], "o-", label=f"training {key}")
            ax.plot(epochs, history[f"test_{key}"], "s--", label=f"test {key}")
        ax.set(title=name, xlabel="Epoch", ylabel=ylabel)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
