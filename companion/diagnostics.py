"""What every layer of a deep network sees: activations on the way forward, gradient norms on the way back.

Chapters "Initialisation and the depth problem" and "Normalisation". The
figures are drawn by ``companion.plots.plot_layer_statistics``.
"""

import numpy as np

from .functions import Function
from .layers import Linear, Sequential
from .losses import SoftmaxCrossEntropy


def layer_statistics(model, x, t, loss=None):
    """One forward and one backward pass of ``model`` on the batch ``(x, t)``, and what each layer saw.

    ``model`` is a ``Sequential``; ``t`` holds the targets the ``loss``
    (default ``SoftmaxCrossEntropy()``) takes. The model runs in its current
    mode (``model.train()`` or ``model.eval()``). Returns a dict::

        "activations"  [Z_1, Z_2, ...]   the output of every activation layer
                                          (ReLU, Sigmoid, Tanh ...), (n, d_k) each
        "grad_norms"   [|dL/dW_1|, ...]   the Frobenius norm of every Linear
                                          layer's weight gradient, first layer first
        "loss"         L                  the loss of the batch

    The parameters' gradients are left in the model, as after any backward pass.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"layer_statistics: expected a Sequential model, got {type(model).__name__}")
    loss = SoftmaxCrossEntropy() if loss is None else loss
    activations = []
    out = x
    for layer in model.layers:
        out = layer.forward(out)
        if isinstance(layer, Function):
            activations.append(out)
    value = loss.forward(out, t)
    model.backward(loss.backward())
    norms = [float(np.linalg.norm(layer.grad_W)) for layer in model.layers if isinstance(layer, Linear)]
    return {"activations": activations, "grad_norms": norms, "loss": float(value)}
