"""Figures of training: loss and accuracy curves, a confusion matrix, a grid of digit images.

Chapters "Optimizers" and "Training a digit classifier". (Graph drawings are
in ``companion.viz``.) Part V adds the per-layer figures of deep networks:
``plot_activation_histograms``, ``plot_gradient_norms`` and both together,
``plot_layer_statistics`` (chapters "Initialisation and the depth problem"
and "Normalisation"), and ``plot_runs``, the curves of several training runs
in one figure (chapters of Part V). ``plot_loss_curves`` draws the loss
against the training step, with reference levels (chapter "A tiny
character-level language model").

Each function draws into a new figure, or into the axes you pass, and
returns the figure; end the notebook cell with ``plt.show()``.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

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


def plot_activation_histograms(activations, axes=None, bins=40, value_range=None):
    """One histogram per layer of the values in ``activations`` (a list of arrays, first layer first).

    Each bar is the fraction of the layer's entries in that bin, so layers of
    different sizes compare. All histograms share the same bins, over
    ``value_range`` (default: from the smallest to the largest value of all
    layers). ``axes``: one matplotlib axes per layer (default: a new figure
    with one row of histograms). Returns the figure.
    """
    arrays = [as_float_array(a, f"activations of layer {k}", "plot_activation_histograms")
              for k, a in enumerate(activations, start=1)]
    if not arrays:
        raise ValueError("plot_activation_histograms: got no activations; expected a list of arrays, one per layer")
    if axes is None:
        fig, axes = plt.subplots(1, len(arrays), figsize=(1.6 * len(arrays), 1.9), sharey=True, squeeze=False)
        axes = axes[0]
    axes = list(np.ravel(axes))
    if len(axes) < len(arrays):
        raise ValueError(f"plot_activation_histograms: {len(axes)} axes for {len(arrays)} layers")
    low, high = value_range or (min(a.min() for a in arrays), max(a.max() for a in arrays))
    high = high if high > low else low + 1.0
    for k, (ax, values) in enumerate(zip(axes, arrays), start=1):
        flat = values.ravel()
        ax.hist(flat, bins=bins, range=(low, high), weights=np.full(flat.size, 1.0 / max(flat.size, 1)),
                color="tab:blue")
        ax.set_title(f"layer {k}", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("fraction")
    return axes[0].figure


def plot_gradient_norms(grad_norms, ax=None, title=None):
    """The norm of each layer's weight gradient against the layer index, on a logarithmic scale.

    ``grad_norms``: a list of norms, first layer first, or a dict
    ``{label: norms}`` to compare several networks on one axes. Returns the figure.
    """
    curves = grad_norms if isinstance(grad_norms, dict) else {None: grad_norms}
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3))
    low, high = np.inf, 0.0
    for label, norms in curves.items():
        norms = as_float_array(norms, "gradient norms", "plot_gradient_norms")
        if norms.ndim != 1 or len(norms) == 0 or (norms <= 0).any():
            raise ValueError(f"plot_gradient_norms: expected a list of positive norms, one per layer, got {norms!r}")
        ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", ms=4, label=label)
        low, high = min(low, norms.min()), max(high, norms.max())
    if high / low < 10:  # show at least one decade, so that flat curves look flat in every figure
        middle = math.sqrt(low * high)
        ax.set_ylim(middle / 10 ** 0.6, middle * 10 ** 0.6)
    if high / low > 1e3:
        ax.yaxis.set_minor_formatter(NullFormatter())  # many decades: label the powers of ten only
    else:  # a few decades: label 2 and 5 times each power of ten too (and 3 within one decade)
        shown = (2, 5) if high / low > 10 else (2, 3, 5)
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if round(v / 10 ** math.floor(math.log10(v) + 1e-9)) in shown else ""))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("layer k")
    ax.set_ylabel(r"$\|\partial L / \partial W_k\|$")
    ax.grid(True, which="both", alpha=0.3)
    if len(curves) > 1 or None not in curves:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax.figure


def plot_layer_statistics(activations, grad_norms, title=None, per_row=7):
    """Both figures of a deep network in one: activation histograms (top), gradient norms (bottom).

    ``activations`` and ``grad_norms`` as ``companion.diagnostics.layer_statistics``
    returns them (its dict's ``"activations"`` and ``"grad_norms"``). The
    histograms fill rows of ``per_row``. Returns the figure.
    """
    count = len(activations)
    if count == 0:
        raise ValueError("plot_layer_statistics: got no activations")
    cols = min(per_row, count)
    rows = math.ceil(count / cols)
    fig = plt.figure(figsize=(1.45 * cols + 0.6, 1.7 * rows + 2.6))
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1] * rows + [1.6], hspace=0.75, wspace=0.25)
    hist_axes = [fig.add_subplot(grid[k // cols, k % cols]) for k in range(count)]
    for ax in hist_axes[1:]:
        ax.sharey(hist_axes[0])
    plot_activation_histograms(activations, axes=hist_axes)
    for k, ax in enumerate(hist_axes):
        if k % cols:
            ax.tick_params(labelleft=False)
        else:
            ax.set_ylabel("fraction", fontsize=8)
    plot_gradient_norms(grad_norms, ax=fig.add_subplot(grid[rows, :]))
    if title:
        fig.suptitle(title)
    return fig


QUANTITY_LABELS = {"loss": "loss (cross-entropy)", "accuracy": "accuracy"}


def plot_runs(histories, quantities=("loss", "accuracy"), axes=None, title=None):
    """Several training runs in one figure: one panel per quantity, one colour per run.

    ``histories`` is a dict ``{label: history}`` of the dicts ``fit`` returns.
    In each panel, a run's validation curve (``val_<quantity>``) is a solid
    line and its training curve (``<quantity>``) a dashed line of the same
    colour. ``quantities``: "loss", "accuracy" or both; ``axes``: one axes per
    quantity (default: a new figure). Returns the figure.
    """
    if not isinstance(histories, dict) or not histories or not all(
            isinstance(h, dict) and "loss" in h for h in histories.values()):
        raise TypeError("plot_runs: expected a dict {label: history} of the dicts fit returns")
    unknown = [q for q in quantities if q not in QUANTITY_LABELS]
    if unknown:
        raise ValueError(f"plot_runs: unknown quantity {unknown[0]!r}; expected 'loss' or 'accuracy'")
    if axes is None:
        fig, axes = plt.subplots(1, len(quantities), figsize=(5 * len(quantities), 3.6), squeeze=False)
        axes = axes[0]
    axes = list(np.ravel(axes))
    for ax, quantity in zip(axes, quantities):
        for k, (label, history) in enumerate(histories.items()):
            color = f"C{k % 10}"
            epochs = np.arange(1, len(history["loss"]) + 1)
            if quantity in history:
                ax.plot(epochs, history[quantity], "--", color=color, lw=1.2)
            if f"val_{quantity}" in history:
                ax.plot(epochs, history[f"val_{quantity}"], "-", color=color, lw=1.8, label=label)
            elif quantity in history:
                ax.lines[-1].set_label(label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(QUANTITY_LABELS[quantity])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, title="solid: validation, dashed: training", title_fontsize=7)
    if title:
        axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes[0].figure


def plot_loss_curves(histories, ax=None, baselines=None, title=None):
    """Loss against the training step: one colour per run, training dashed, held-out solid.

    ``histories``: one history or a dict ``{label: history}``; a history is a
    dict with equally long lists ``"step"`` (the x values), ``"loss"`` (the
    training loss) and optionally ``"val_loss"`` (the held-out loss), as
    ``companion.fit_language_model`` returns it. ``baselines``: a dict
    ``{label: value}`` of reference levels, drawn as dotted grey lines with
    their label. ``ax``: the axes to draw into (default: a new figure).
    Returns the figure.
    """
    if isinstance(histories, dict) and "loss" in histories:
        histories = {None: histories}
    if not isinstance(histories, dict) or not histories:
        raise TypeError("plot_loss_curves: expected a history (a dict with 'step' and 'loss' lists) "
                        "or a dict {label: history}")
    for label, history in histories.items():
        if not isinstance(history, dict) or "step" not in history or "loss" not in history:
            raise TypeError(f"plot_loss_curves: the history {label!r} needs 'step' and 'loss' lists, "
                            f"got {history!r:.60}")
        for key in ("loss", "val_loss"):
            if key in history and len(history[key]) != len(history["step"]):
                raise ValueError(f"plot_loss_curves: the history {label!r} has {len(history[key])} values of "
                                 f"{key!r} for {len(history['step'])} steps")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.8))
    for k, (label, history) in enumerate(histories.items()):
        color = f"C{k % 10}"
        name = "" if label is None else f"{label}, "
        ax.plot(history["step"], history["loss"], "--", color=color, lw=1.2, label=f"{name}training")
        if "val_loss" in history:
            ax.plot(history["step"], history["val_loss"], "-", color=color, lw=1.8, label=f"{name}held-out")
    for label, value in (baselines or {}).items():
        ax.axhline(value, color="0.4", ls=":", lw=1.2)
        ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (cross-entropy, nats)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax.figure
