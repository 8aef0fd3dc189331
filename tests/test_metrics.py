"""companion.metrics: accuracy and confusion_matrix from scores or labels, and their errors."""

import numpy as np
import pytest

from companion import accuracy, confusion_matrix


def test_accuracy_from_scores_labels_and_one_hot():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    labels = np.array([0, 1, 1, 0])
    assert accuracy(scores, labels) == 0.75
    assert accuracy(scores, np.eye(3)[labels]) == 0.75
    assert accuracy(np.array([0, 1, 2, 0]), labels, num_classes=3) == 0.75
    assert accuracy(np.array([0, 1, 2, 0]), np.eye(3)[labels]) == 0.75


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    scores = np.eye(3)[[0, 1, 2, 2, 1]]
    labels = np.array([0, 1, 1, 2, 2])
    cm = confusion_matrix(scores, labels)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 1, 1]])
    assert cm.dtype == np.int64 and cm.sum() == 5
    assert cm.trace() / cm.sum() == accuracy(scores, labels)
    np.testing.assert_array_equal(confusion_matrix(np.array([0, 1, 2, 2, 1]), labels, num_classes=3), cm)


def test_errors():
    with pytest.raises(ValueError, match=r"accuracy: label 3 at index 1 is out of range"):
        accuracy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match=r"accuracy: predictions have shape \(2, 2, 2\), expected scores"):
        accuracy(np.zeros((2, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match="accuracy: predicted labels .* need num_classes"):
        accuracy([0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"accuracy: got no samples"):
        accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match=r"confusion_matrix: scores have 3 columns, expected 4"):
        confusion_matrix(np.zeros((2, 3)), [0, 1], num_classes=4)
    with pytest.raises(ValueError, match="confusion_matrix: scores contains NaN"):
        confusion_matrix(np.array([[np.nan, 0.0]]), [0])
    with pytest.raises(ValueError, match=r"targets have shape \(3,\), expected labels of shape \(2,\)"):
        confusion_matrix(np.zeros((2, 3)), [0, 1, 2])
