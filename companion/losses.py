"""Loss functions: a scalar L from predictions and targets, and dL/dpredictions.

- ``MSELoss``: chapter "Matrix gradients for a minibatch".
- ``softmax``, ``log_softmax``, ``SoftmaxCrossEntropy``: chapter "Softmax and
  cross-entropy".
- ``softmax_backward``: the softmax's Jacobian applied to an upstream gradient
  without forming it (chapter "Softmax and cross-entropy"), along any axis;
  the attention weights of chapter "Self-attention, derived by hand" use it.

A loss's ``forward(pred, target)`` returns a float; ``backward(dout=1.0)``
returns ``dL/dpred`` with ``pred``'s shape (``dout`` is dL/dL = 1 unless the
loss is itself part of a larger expression).

Input checks: a loss is where a model's output meets the targets, so it checks
both (float64, no NaN or infinity, shapes, valid labels). The predictions are
always scanned: a ``Sequential`` does not scan between its layers, so this is
where a NaN or infinity from inside a model (an overflow, a broken weight) is
caught. ``forward(..., targets_checked=True)`` skips only the targets' check;
``fit`` passes it, having checked all the targets once before training.
"""

import numpy as np

from ._validate import as_float, as_float_array, as_labels, require_forward


class MSELoss:
    """Mean squared error with a 1/2: ``L = 1/(2n) * sum((pred - target)**2)``.

    Shapes: ``pred`` and ``target`` both ``(n, k)`` (n samples, k outputs);
    the squares are summed over the k outputs and averaged over the ``n``
    rows (samples), and the 1/2 cancels the 2 that differentiating the
    square brings down::

        dL/dpred = (pred - target) / n          (n, k)

    (Other books use 1/n without the 1/2, or sum without averaging; those
    change the gradient by a factor 2 or n, and hence the learning rate.)
    """

    def __init__(self):
        self.diff = None

    def __repr__(self):
        return "MSELoss()"

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def forward(self, pred, target, *, targets_checked=False):
        pred = as_float_array(pred, "predictions pred", "MSELoss")
        if not targets_checked:
            target = as_float_array(target, "targets target", "MSELoss")
        if pred.ndim != 2 or pred.shape != target.shape:
            raise ValueError(
                f"MSELoss: predictions have shape {pred.shape} and targets {target.shape}; "
                f"expected both (n, k) and equal (a column of n targets is target.reshape(-1, 1))"
            )
        if pred.size == 0:
            raise ValueError(f"MSELoss: predictions have shape {pred.shape}; expected at least one sample and one output")
        self.diff = pred - target
        return float(np.sum(self.diff ** 2) / (2 * len(pred)))

    def backward(self, dout=1.0):
        require_forward(self.diff, "MSELoss")
        dout = as_float(dout, "upstream gradient dout", "MSELoss")
        return dout * self.diff / len(self.diff)


def _logits(z, owner, checked=False):
    if not checked:
        z = as_float_array(z, "logits z", owner)
    if z.ndim != 2 or z.shape[1] < 1:
        hint = " (one sample? use z.reshape(1, -1))" if z.ndim == 1 else ""
        sequences = " or (n, S, C) for a sequence model" if owner == "SoftmaxCrossEntropy" else ""
        raise ValueError(f"{owner}: logits z have shape {z.shape}, expected (n, k): one row of k scores per "
                         f"sample{sequences}{hint}")
    return z


def _sequence_labels(target, n, length, k):
    """The targets of sequence logits (n, S, C): integer labels of shape (n, S) in 0..C-1, or a clear error."""
    raw = np.asarray(target)
    if raw.dtype.kind not in "iu":
        raise TypeError(f"SoftmaxCrossEntropy: targets for logits of shape ({n}, {length}, {k}) must be integer "
                        f"labels of shape ({n}, {length}), got {type(target).__name__} with dtype {raw.dtype}")
    if raw.shape != (n, length):
        raise ValueError(f"SoftmaxCrossEntropy: targets have shape {raw.shape}, expected labels of shape "
                         f"({n}, {length}): one class per position of the logits ({n}, {length}, {k})")
    if raw.size and (raw.min() < 0 or raw.max() >= k):
        where = tuple(int(i) for i in np.argwhere((raw < 0) | (raw >= k))[0])
        raise ValueError(f"SoftmaxCrossEntropy: label {raw[where]} at index {where} is out of range; expected "
                         f"labels in 0..{k - 1} for {k} classes")
    return raw


def _shifted_exp(z):
    """The pieces of every stable softmax of logits ``z`` (n, k).

    Returns ``shifted = z - rowmax`` (n, k), every row's max 0; ``e = exp(shifted)``
    (n, k), no entry above 1; and ``total``, the row sums of ``e`` (n, 1), each at least 1.
    """
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=1, keepdims=True)


def softmax(z):
    """Row-wise softmax of logits ``z`` (n, k): ``exp(z) / exp(z).sum(axis=1)``, shape (n, k).

    Each row is shifted by its maximum first. That changes nothing
    mathematically (the factor ``exp(-max)`` cancels) but keeps ``exp`` from
    overflowing: the largest exponent is ``exp(0) = 1``.
    """
    _, e, total = _shifted_exp(_logits(z, "softmax"))
    return e / total


def softmax_backward(p, dout, axis=-1, *, checked=False, overwrite_dout=False):
    """dL/dz for ``p = softmax(z)`` along ``axis``, from ``dout = dL/dp``: ``p * (dout - sum(dout * p))``.

    The softmax's Jacobian ``dp_j/dz_l = p_j ([j = l] - p_l)`` applied to
    ``dout`` without forming it: for each slice along ``axis`` (a row of
    logits, of attention scores, ...)::

        dz_l = sum_j dout_j p_j ([j = l] - p_l) = p_l * (dout_l - sum_j dout_j p_j)

    ``p`` and ``dout`` have the same shape (any, e.g. (n, k) or attention
    weights (n, heads, S, S)); the result has it too. An entry with ``p = 0``
    (a masked attention weight) gets exactly 0. ``checked=True`` skips the
    conversion of ``p`` and ``dout`` to float64 and their scan for NaN and
    infinity (for arrays a companion layer computed); the shape check always runs.
    ``overwrite_dout=True`` writes the result into ``dout`` (an array you own
    and no longer need, such as attention's ``dP``) instead of a new array.
    """
    if not checked:
        p = as_float_array(p, "probabilities p", "softmax_backward")
        dout = as_float_array(dout, "upstream gradient dout", "softmax_backward")
    if p.shape != dout.shape:
        raise ValueError(f"softmax_backward: probabilities p have shape {p.shape} and dout {dout.shape}; "
                         f"expected equal shapes (dout is dL/dp)")
    if p.ndim == 0:
        raise ValueError("softmax_backward: p is a single number; expected an array with the softmax's axis")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -p.ndim <= axis < p.ndim:
        raise ValueError(f"softmax_backward: axis must be an integer in [-{p.ndim}, {p.ndim}) for p of shape "
                         f"{p.shape}, got {axis!r}")
    # sum_j dout_j p_j for every slice: a dot product along the axis (einsum forms no (..., k) temporary)
    total = np.expand_dims(np.einsum("...j,...j->...", np.moveaxis(dout, axis, -1), np.moveaxis(p, axis, -1)), axis)
    if not overwrite_dout:
        return p * (dout - total)
    dout -= total
    dout *= p
    return dout


def log_softmax(z):
    """Row-wise ``log(softmax(z))`` for logits ``z`` (n, k), computed without taking log of a probability.

    ``log softmax(z)_k = (z_k - m) - log(sum_j exp(z_j - m))`` with ``m`` the
    row maximum (the log-sum-exp trick): finite for any finite logits, even
    where the probability itself underflows to 0.
    """
    shifted, _, total = _shifted_exp(_logits(z, "log_softmax"))
    return shifted - np.log(total)


class SoftmaxCrossEntropy:
    """Softmax followed by cross-entropy, as one node: logits in, mean loss out.

    Shapes::

        logits   (n, k)     raw scores of the last Linear layer, one row per sample
        target   (n,)       integer labels in 0..k-1
              or (n, k)     one-hot rows (a single 1 per row)
        probs    (n, k)     softmax(logits), kept for backward

    A sequence model's logits ``(n, S, C)`` with integer targets ``(n, S)``
    (chapter "A tiny character-level language model") are the same loss over
    ``n * S`` rows: every position predicts one class, and ``L`` is the mean
    over all ``n * S`` positions; backward returns ``(n, S, C)``.

    ``L = -(1/n) * sum_i log softmax(logits)[i, label_i]``, a mean over the
    batch. Backward is the famous simple form::

        dL/dlogits = (probs - onehot(target)) / n      (n, k)

    Computed with the max shift and log-sum-exp, so logits as large as 1e4 in
    absolute value give finite losses and gradients and no numpy warnings.
    """

    def __init__(self):
        self.probs = self.labels = self.shape = None

    def __repr__(self):
        return "SoftmaxCrossEntropy()"

    def __call__(self, logits, target):
        return self.forward(logits, target)

    def forward(self, logits, target, *, targets_checked=False):
        """The mean loss. ``targets_checked=True``: ``target`` is already int labels in 0..k-1 (``fit`` passes it)."""
        z = as_float_array(logits, "logits z", "SoftmaxCrossEntropy")
        self.shape = z.shape
        if z.ndim == 3:  # a sequence model's logits (n, S, C): every position is one more sample
            n, length, k = z.shape
            if not targets_checked:
                target = _sequence_labels(target, n, length, k)
            z, target, targets_checked = z.reshape(n * length, k), np.reshape(target, n * length), True
        z = _logits(z, "SoftmaxCrossEntropy", checked=True)
        n, k = z.shape
        labels = target if targets_checked else as_labels(target, n, k, "SoftmaxCrossEntropy")
        rows = np.arange(n)
        shifted, e, total = _shifted_exp(z)              # (n, k), (n, k), (n, 1)
        self.probs = e / total
        self.labels = labels
        # -log softmax at the label = log(total) - shifted[label]
        return float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))

    def backward(self, dout=1.0):
        require_forward(self.probs, "SoftmaxCrossEntropy")
        dout = as_float(dout, "upstream gradient dout", "SoftmaxCrossEntropy")
        n = len(self.probs)
        grad = self.probs.copy()
        grad[np.arange(n), self.labels] -= 1.0           # probs - onehot
        grad *= dout / n
        return grad.reshape(self.shape)                  # (n, S, C) for sequence logits
