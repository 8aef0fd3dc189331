"""Normalisation layers: BatchNorm (over the batch) and LayerNorm (over the features).

Chapter "Normalisation".

Both layers standardise their input to mean 0 and variance 1, then scale and
shift it with learned parameters ``gamma`` (ones at the start) and ``beta``
(zeros). They differ in the axis the statistics are taken over:

- ``BatchNorm`` (Ioffe and Szegedy, 2015): each feature (column) over the
  ``n`` samples of the minibatch. A sample's output depends on the other
  samples of its batch, so the layer behaves differently in training (batch
  statistics) and in evaluation (running averages of them): ``train()`` and
  ``eval()`` switch it.
- ``LayerNorm`` (Ba, Kiros and Hinton, 2016): each sample's vector over its
  own ``d`` features, for inputs ``(..., d)`` with any leading axes, such as
  ``(n, d)`` or a sequence ``(n, S, d)``. It behaves the same in training and
  in evaluation, so it has no ``train()``/``eval()``.

Both backward passes are the compact formula the chapter derives from the
staged graph (mean, centred, variance, inverse standard deviation,
normalised, scale, shift). With ``dx_hat = dout * gamma`` and ``m`` the
number of entries each statistic averages (``n`` for BatchNorm, ``d`` for
LayerNorm), summing along that same axis::

    dx = inv_std / m * (m * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))

Parameters follow companion's protocol (see ``companion.layers.Linear``):
``named_parameters()`` lists ``("gamma", gamma, grad_gamma)`` and ``("beta",
beta, grad_beta)``; ``backward`` overwrites the gradient arrays in place.
Input checks as in ``Linear``: ``checked=True`` (passed by ``Sequential`` for
an array another companion layer computed) skips the float64 conversion and
the NaN/infinity scan; the shape checks always run.
"""

import math

import numpy as np

from ._validate import as_float_array, check_shape, number_in, positive_int, require_forward


class _Normalization:
    """What BatchNorm and LayerNorm share: gamma, beta, their gradients and the parameter protocol."""

    def __init__(self, num_features, eps):
        name = type(self).__name__
        self.num_features = positive_int(num_features, "num_features", name)
        self.eps = number_in(eps, "eps", name, 0.0, math.inf)
        self.gamma = np.ones(self.num_features)    # (d,) scale
        self.beta = np.zeros(self.num_features)    # (d,) shift
        self.grad_gamma = np.zeros(self.num_features)
        self.grad_beta = np.zeros(self.num_features)
        self._cache = None                          # what backward needs, set by forward

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features})"

    def __call__(self, x):
        return self.forward(x)

    def named_parameters(self):
        return [("gamma", self.gamma, self.grad_gamma), ("beta", self.beta, self.grad_beta)]

    def parameters(self):
        return [(param, grad) for _, param, grad in self.named_parameters()]

    def zero_grad(self):
        for _, _, grad in self.named_parameters():
            grad[...] = 0.0

    def _input(self, x, checked):
        return x if checked else as_float_array(x, "input x", self.__repr__)

    def _dout(self, dout, checked):
        require_forward(self._cache, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, self._cache[0].shape, "upstream gradient dout (the shape of forward's output)",
                    self.__repr__)
        return dout


class BatchNorm(_Normalization):
    """Batch normalisation of a minibatch of feature vectors (Ioffe and Szegedy, 2015).

    ``BatchNorm(num_features, eps=1e-5, momentum=0.1)``. Shapes::

        x        (n, d)    one sample per row, d = num_features
        gamma    (d,)      scale, starts at ones      (grad_gamma)
        beta     (d,)      shift, starts at zeros     (grad_beta)
        out      (n, d)

    **Training mode** (the default; ``train()``): every feature (column) is
    standardised with the mean and variance of *this batch*::

        mean    = x.mean(axis=0)                  (d,)
        var     = x.var(axis=0)                   (d,)  biased: divided by n
        inv_std = 1 / sqrt(var + eps)             (d,)
        x_hat   = (x - mean) * inv_std            (n, d)
        out     = gamma * x_hat + beta            (n, d)

    and the running statistics move a fraction ``momentum`` towards the batch's
    (PyTorch's convention; some texts call ``1 - momentum`` the momentum)::

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)

    The running variance averages the **unbiased** batch variance (divided by
    n - 1), as in the paper's inference step and in PyTorch. The running
    statistics estimate the mean and variance of a feature over the whole
    data, and the batch variance divided by n underestimates that variance by
    the factor (n - 1)/n on average (the batch's own mean is closer to its
    samples than the true mean is): a factor 1/2 for batches of 2. The batch
    itself is normalised with the biased variance, which is exactly the
    variance of the numbers being normalised, so ``x_hat`` has mean 0 and
    variance ``var / (var + eps)``, just below 1. Training mode needs
    ``n >= 2`` samples: one sample has no spread to measure.

    **Evaluation mode** (``eval()``): ``x_hat = (x - running_mean) /
    sqrt(running_var + eps)``, a fixed affine map of each feature, so each
    sample's output depends on that sample alone and a batch of one works.
    The running statistics start at mean 0 and variance 1 and are not changed.

    Backward, with ``dx_hat = dout * gamma`` (sums over the batch, axis 0)::

        grad_gamma = (dout * x_hat).sum(axis=0)     (d,)
        grad_beta  = dout.sum(axis=0)               (d,)
        dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0)
                            - x_hat * (dx_hat * x_hat).sum(axis=0))    training
        dx = dx_hat * inv_std                                          evaluation

    In training, the mean and the variance depend on every sample, hence the
    two sums. ``backward`` follows the mode of the ``forward`` it comes after.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps)
        self.momentum = number_in(momentum, "momentum", "BatchNorm", 0.0, 1.0, closed_low=True, closed_high=True)
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.training = True

    def train(self, mode=True):
        """Training mode (batch statistics, running averages updated); ``train(False)`` is ``eval()``. Returns self."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (running statistics, nothing updated). Returns self."""
        return self.train(False)

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        d = self.num_features
        if x.ndim != 2 or x.shape[1] != d:
            hint = " (one sample? use x.reshape(1, -1))" if x.ndim == 1 else ""
            raise ValueError(f"{self!r}: input x has shape {x.shape}, expected (n, {d}){hint}")
        n = x.shape[0]
        if self.training:
            if n < 2:
                raise ValueError(
                    f"{self!r}: training mode normalises with the statistics of the batch and needs at least "
                    f"2 samples, got input x of shape {x.shape}; call eval() to use the running statistics"
                )
            mean = x.mean(axis=0)                        # (d,)
            centred = x - mean                           # (n, d)
            var = np.mean(centred * centred, axis=0)     # (d,) biased
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += (m * n / (n - 1)) * var  # unbiased (see the docstring)
        else:
            centred = x - self.running_mean
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)          # (d,)
        x_hat = centred * inv_std                        # (n, d)
        self._cache = (x_hat, inv_std, self.training)
        return self.gamma * x_hat + self.beta

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        x_hat, inv_std, training = self._cache
        np.sum(dout * x_hat, axis=0, out=self.grad_gamma)   # (d,)
        np.sum(dout, axis=0, out=self.grad_beta)            # (d,)
        dx_hat = dout * self.gamma                          # (n, d)
        if not training:
            return dx_hat * inv_std
        n = dout.shape[0]
        return (inv_std / n) * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0))


class LayerNorm(_Normalization):
    """Layer normalisation: each sample's vector standardised over its own features (Ba et al., 2016).

    ``LayerNorm(num_features, eps=1e-5)``. Shapes::

        x        (..., d)   any leading axes: (n, d), a sequence (n, S, d), ...
        gamma    (d,)       scale, starts at ones      (grad_gamma)
        beta     (d,)       shift, starts at zeros     (grad_beta)
        out      (..., d)

    The graph of ``BatchNorm`` along the other axis: statistics over the last
    axis, one mean and one variance per vector::

        mean    = x.mean(axis=-1, keepdims=True)      (..., 1)
        var     = x.var(axis=-1, keepdims=True)       (..., 1)  biased: divided by d
        inv_std = 1 / sqrt(var + eps)                 (..., 1)
        x_hat   = (x - mean) * inv_std                (..., d)
        out     = gamma * x_hat + beta                (..., d)

    Every vector is normalised on its own, so a batch of one works and the
    layer is the same in training and in evaluation (no running statistics,
    no ``train()``/``eval()``). Backward, with ``dx_hat = dout * gamma``::

        grad_gamma = dout * x_hat summed over every axis but the last    (d,)
        grad_beta  = dout summed over every axis but the last            (d,)
        dx = inv_std / d * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
                            - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True))
    """

    def __init__(self, num_features, eps=1e-5):
        super().__init__(num_features, eps)

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        d = self.num_features
        if x.ndim == 0 or x.shape[-1] != d:
            raise ValueError(f"{self!r}: input x has shape {x.shape}, expected (..., {d}): {d} features last")
        mean = x.mean(axis=-1, keepdims=True)                        # (..., 1)
        centred = x - mean                                           # (..., d)
        var = np.mean(centred * centred, axis=-1, keepdims=True)     # (..., 1) biased
        inv_std = 1.0 / np.sqrt(var + self.eps)                      # (..., 1)
        x_hat = centred * inv_std                                    # (..., d)
        self._cache = (x_hat, inv_std)
        return self.gamma * x_hat + self.beta

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        x_hat, inv_std = self._cache
        leading = tuple(range(dout.ndim - 1))                        # every axis but the features
        np.sum(dout * x_hat, axis=leading, out=self.grad_gamma)      # (d,)
        np.sum(dout, axis=leading, out=self.grad_beta)               # (d,)
        dx_hat = dout * self.gamma                                   # (..., d)
        d = self.num_features
        return (inv_std / d) * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
                                - x_hat * np.sum(dx_hat * x_hat, axis=-1, keepdims=True))
