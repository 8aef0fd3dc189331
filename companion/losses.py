"""Loss functions: a scalar L from predictions and targets, and dL/dpredictions.

- ``MSELoss``: chapter "Matrix gradients for a minibatch".

A loss's ``forward(pred, target)`` returns a float; ``backward(dout=1.0)``
returns ``dL/dpred`` with ``pred``'s shape (``dout`` is dL/dL = 1 unless the
loss is itself part of a larger expression).
"""

import numpy as np

from ._validate import as_float_array, require_forward


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

    def forward(self, pred, target):
        pred = as_float_array(pred, "predictions pred", "MSELoss")
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
        dout = float(as_float_array(dout, "upstream gradient dout", "MSELoss"))
        return dout * self.diff / len(self.diff)
