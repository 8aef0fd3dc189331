"""companion.plots: the figures have the artists the chapters rely on, and bad input fails clearly."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion import plot_confusion_matrix, plot_digits, plot_history


def teardown_function():
    plt.close("all")


def test_plot_history_draws_training_and_validation_curves():
    history = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.8, 0.9], "val_loss": [1.1, 0.6, 0.4],
               "val_accuracy": [0.4, 0.7, 0.85]}
    fig = plot_history(history, title="run")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["training", "validation"]
    np.testing.assert_array_equal(acc_ax.lines[1].get_ydata(), history["val_accuracy"])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert len(plot_history({"loss": [1.0, 0.5], "accuracy": [0.1, 0.2]}).axes[0].lines) == 1


def test_plot_confusion_matrix_writes_every_count():
    cm = np.array([[5, 1], [0, 7]])
    fig = plot_confusion_matrix(cm)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["5", "1", "0", "7"]
    assert fig.axes[0].get_ylabel() == "true class"


def test_plot_digits_reshapes_and_marks_mistakes_in_red():
    images = np.random.default_rng(0).uniform(size=(12, 64))
    fig = plot_digits(images, labels=np.arange(12) % 10, predictions=np.r_[np.arange(11) % 10, 3], ncols=5)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 12 and axes[0].images[0].get_array().shape == (8, 8)
    assert axes[11].get_title() == "1 → 3" and axes[11].title.get_color() == "tab:red"
    assert axes[0].title.get_color() == "black"
    assert plot_digits(images[:3], labels=[1, 2, 3]).axes[0].get_title() == "1"


def test_errors():
    with pytest.raises(TypeError, match="plot_history: expected the dict fit returns"):
        plot_history([1, 2])
    with pytest.raises(ValueError, match="plot_confusion_matrix: expected a square matrix of integer counts"):
        plot_confusion_matrix(np.ones((2, 3), dtype=int))
    with pytest.raises(ValueError, match="plot_confusion_matrix: 3 class names for 2 classes"):
        plot_confusion_matrix(np.eye(2, dtype=int), class_names="abc")
    with pytest.raises(ValueError, match="plot_digits: images have 10 pixels, not a square"):
        plot_digits(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="plot_digits: 1 labels for 2 images"):
        plot_digits(np.zeros((2, 4)), labels=[1])
    with pytest.raises(ValueError, match="plot_digits: images contains NaN"):
        plot_digits(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="plot_digits: got no images"):
        plot_digits(np.zeros((0, 4)))


def test_layer_statistics_figure_has_a_histogram_per_layer_and_the_norms_on_a_log_scale():
    from companion import plot_activation_histograms, plot_gradient_norms, plot_layer_statistics
    rng = np.random.default_rng(0)
    acts = [rng.uniform(size=(20, 4)) * (k + 1) for k in range(9)]
    norms = [10.0 ** -k for k in range(10)]
    fig = plot_layer_statistics(acts, norms, title="run", per_row=4)
    hist_axes = [ax for ax in fig.axes if ax.patches]
    assert len(hist_axes) == 9 and hist_axes[8].get_title() == "layer 9"
    assert sum(p.get_height() for p in hist_axes[0].patches) == pytest.approx(1.0)  # fractions of the entries
    assert hist_axes[0].get_xlim()[1] > 9.0                                          # shared bins over all layers
    norm_ax = [ax for ax in fig.axes if ax.lines][0]
    assert norm_ax.get_yscale() == "log" and norm_ax.get_xlabel() == "layer k"
    np.testing.assert_array_equal(norm_ax.lines[0].get_xdata(), np.arange(1, 11))
    fig = plot_gradient_norms({"a": [1.0, 2.0], "b": [3.0, 0.5]})
    assert [line.get_label() for line in fig.axes[0].lines] == ["a", "b"]
    assert len(plot_activation_histograms(acts[:3]).axes) == 3


def test_layer_statistics_plot_errors():
    from companion import plot_activation_histograms, plot_gradient_norms, plot_layer_statistics
    with pytest.raises(ValueError, match="plot_activation_histograms: got no activations"):
        plot_activation_histograms([])
    with pytest.raises(ValueError, match="plot_activation_histograms: 1 axes for 2 layers"):
        plot_activation_histograms([np.ones(3), np.ones(3)], axes=[plt.gca()])
    with pytest.raises(ValueError, match="plot_gradient_norms: expected a list of positive norms"):
        plot_gradient_norms([1.0, 0.0])
    with pytest.raises(ValueError, match="plot_layer_statistics: got no activations"):
        plot_layer_statistics([], [1.0])


def test_plot_runs_draws_one_colour_per_run_solid_validation_dashed_training():
    from companion import plot_runs
    runs = {"a": {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.7], "val_accuracy": [0.4, 0.7]},
            "b": {"loss": [0.9, 0.4], "accuracy": [0.6, 0.9]}}
    fig = plot_runs(runs, title="runs")
    loss_ax, acc_ax = fig.axes
    styles = [(line.get_linestyle(), line.get_color()) for line in acc_ax.lines]
    assert styles == [("--", "C0"), ("-", "C0"), ("--", "C1")]
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["a", "b"] and acc_ax.get_legend() is None
    np.testing.assert_array_equal(acc_ax.lines[1].get_ydata(), [0.4, 0.7])
    assert len(plot_runs(runs, quantities=("accuracy",)).axes) == 1
    with pytest.raises(TypeError, match="plot_runs: expected a dict"):
        plot_runs([runs["a"]])
    with pytest.raises(ValueError, match="plot_runs: unknown quantity 'lr'"):
        plot_runs(runs, quantities=("lr",))


def test_plot_loss_curves_draws_training_dashed_held_out_solid_and_the_baselines():
    from companion import plot_loss_curves
    runs = {"RNN": {"step": [0, 10, 20], "loss": [4.4, 3.0, 2.5], "val_loss": [4.4, 3.1, 2.7]},
            "transformer": {"step": [0, 10], "loss": [4.4, 2.9]}}
    fig = plot_loss_curves(runs, baselines={"uniform": 4.39, "frequencies": 3.21}, title="runs")
    ax = fig.axes[0]
    curves = [(line.get_label(), line.get_linestyle(), line.get_color()) for line in ax.lines[:3]]
    assert curves == [("RNN, training", "--", "C0"), ("RNN, held-out", "-", "C0"), ("transformer, training", "--", "C1")]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [4.4, 3.1, 2.7])
    assert [line.get_ydata()[0] for line in ax.lines[3:]] == [4.39, 3.21]
    assert [t.get_text() for t in ax.texts] == ["uniform", "frequencies"]
    assert ax.get_xlabel() == "training step" and ax.get_title() == "runs"
    single = plot_loss_curves(runs["RNN"]).axes[0]
    assert [line.get_label() for line in single.lines] == ["training", "held-out"]


def test_plot_loss_curves_errors():
    from companion import plot_loss_curves
    with pytest.raises(TypeError, match="plot_loss_curves: expected a history"):
        plot_loss_curves([1.0, 2.0])
    with pytest.raises(TypeError, match="plot_loss_curves: expected a history"):
        plot_loss_curves({})
    with pytest.raises(TypeError, match="plot_loss_curves: the history 'a' needs 'step' and 'loss' lists"):
        plot_loss_curves({"a": {"loss": [1.0]}})
    with pytest.raises(ValueError, match="plot_loss_curves: the history 'a' has 1 values of 'val_loss' for 2 steps"):
        plot_loss_curves({"a": {"step": [0, 1], "loss": [1.0, 0.5], "val_loss": [1.0]}})
