"""How good are a classifier's predictions: accuracy and the confusion matrix.

Chapters "Softmax and cross-entropy" (``accuracy``) and "Training a digit
classifier" (``confusion_matrix``).

Both take predictions in either of two forms: scores of shape ``(n, k)``
(logits or probabilities; the predicted class is the column of each row's
largest score) or predicted labels of shape ``(n,)``. Targets are labels
``(n,)`` or one-hot rows ``(n, k)``, as for ``SoftmaxCrossEntropy``.
"""

import numpy as np

from ._validate import as_float_array, as_labels


def _predictions(pred, target, num_classes, owner):
    """Predicted and true labels, both (n,), and the number of classes k."""
    raw = np.asarray(pred)
    if raw.ndim == 2:
        scores = as_float_array(raw, "scores", owner)
        if num_classes is not None and scores.shape[1] != num_classes:
            raise ValueError(f"{owner}: scores have {scores.shape[1]} columns, expected {num_classes} (one per class)")
        predicted, k = scores.argmax(axis=1), scores.shape[1]
    elif raw.ndim == 1:
        t = np.asarray(target)
        k = num_classes or (t.shape[1] if t.ndim == 2 else None)
        if k is None:
            raise ValueError(f"{owner}: predicted labels (n,) and target labels (n,) need num_classes")
        predicted = as_labels(raw, len(raw), k, owner)
    else:
        raise ValueError(
            f"{owner}: predictions have shape {raw.shape}, expected scores (n, k) or predicted labels (n,)"
        )
    if len(predicted) == 0:
        raise ValueError(f"{owner}: got no samples (n = 0); expected at least one prediction")
    return predicted, as_labels(target, len(predicted), k, owner), k


def accuracy(pred, target, num_classes=None):
    """Fraction of samples whose predicted class equals the target class, a float in [0, 1].

    ``pred``: scores (n, k) or predicted labels (n,); ``target``: labels (n,)
    or one-hot rows (n, k). ``num_classes`` is needed only when both are labels.
    """
    predicted, labels, _ = _predictions(pred, target, num_classes, "accuracy")
    return float(np.mean(predicted == labels))


def confusion_matrix(pred, target, num_classes=None):
    """Counts ``C[true, predicted]``: row i counts the samples of class i by the class they were given.

    Shape ``(k, k)``, integer. The diagonal holds the correct predictions;
    ``C.trace() / C.sum()`` is the accuracy. ``num_classes`` is needed only
    when both ``pred`` and ``target`` are labels.
    """
    predicted, labels, k = _predictions(pred, target, num_classes, "confusion_matrix")
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts
