"""Figures of training: loss and accuracy curves, a confusion matrix, a grid of digit images.

Chapters "Optimizers" and "Training a digit classifier". (Graph drawings are
in ``companion.viz``.)

Each function draws into a new figure, or into the axes you pass, and
returns the figure; end the notebook cell with ``plt.show()``.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

from ._validate import as_float_array


def plot_history(history, axes=None, title=None):
    """Loss (left) and accuracy (right) per epoch from the dict ``fit`` returns.

    Draws ``loss``/``accuracy`` as "training" and, when present,
    ``val_loss``/``val_accuracy`` as "validation". ``axes``: two matplotlib
    axes to draw into (default: a new 1x2 figure).
    """
    if not isinstance(history, dict) or "loss" not in history:
        raise TypeError(f"plot_history: expected the dict fit returns (with a 'loss' list), got {type(history).__name__}")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    else:
        fig = axes[0].figure
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key, label in zip(axes, ("loss", "accuracy"), ("loss (cross-entropy)", "accuracy")):
        if key in history:
            ax.plot(epochs, history[key], "o-", ms=3, label="training")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix, ax=None, class_names=None):
    """Draw a confusion matrix (k, k) of counts: rows are true classes, columns predicted ones.

    Every cell shows its count; the diagonal (correct predictions) is dark.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.dtype.kind not in "iu":
        raise ValueError(
            f"plot_confusion_matrix: expected a square matrix of integer counts, got shape {matrix.shape} "
            f"and dtype {matrix.dtype}"
        )
    k = len(matrix)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {k} classes")
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.45 * k + 2.2, 0.45 * k + 1.8))
    else:
        fig = ax.figure
    ax.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=9,
                    color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return fig


def plot_digits(images, labels=None, predictions=None, ncols=10, image_shape=None):
    """A grid of digit images, each titled with its label (and prediction, if given).

    ``images`` (n, pixels) or (n, rows, cols); square images are reshaped
    automatically (64 pixels -> 8x8, 784 -> 28x28). With ``predictions``,
    a title reads "3 → 8" (true → predicted) and is red when they differ.
    """
    images = as_float_array(images, "images", "plot_digits")
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        shape = image_shape or (side, side)
        if shape[0] * shape[1] != images.shape[1]:
            raise ValueError(
                f"plot_digits: images have {images.shape[1]} pixels, not a square; pass image_shape=(rows, cols)"
            )
        images = images.reshape(len(images), *shape)
    elif images.ndim != 3:
        raise ValueError(f"plot_digits: images have shape {images.shape}, expected (n, pixels) or (n, rows, cols)")
    n = len(images)
    if n == 0:
        raise ValueError("plot_digits: got no images")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != n:
            raise ValueError(f"plot_digits: {len(values)} {name} for {n} images")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.05 * ncols, 1.25 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if predictions is not None and labels is not None:
            wrong = labels[i] != predictions[i]
            ax.set_title(f"{labels[i]} → {predictions[i]}", fontsize=10, color="tab:red" if wrong else "black")
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=10)
    fig.tight_layout()
    return fig
