"""Dropout: a layer that zeroes a random part of its input while training.

Chapter "Regularisation". (Weight decay is an option of the optimizers,
``companion.optim``: ``SGD(..., weight_decay=...)`` and ``AdamW``.)
"""

from ._validate import as_float_array, as_rng, check_shape, number_in, require_forward


class Dropout:
    """Inverted dropout (Srivastava et al., 2014) with a seeded generator.

    ``Dropout(rate, rng=None)``: ``rate`` is the probability that an entry is
    dropped, ``0 <= rate < 1``; ``rng`` is a numpy Generator or an int seed
    (kept as ``self.rng``), so a seeded run drops the same entries every time.

    **Training mode** (the default; ``train()``): every forward draws a new
    mask of the input's shape, any shape ``(...)``. Each entry is kept with
    probability ``1 - rate`` and scaled by ``1 / (1 - rate)``, so that its
    expected value is the input's::

        mask = (rng.random(x.shape) >= rate) / (1 - rate)    entries 0 or 1/(1 - rate)
        out  = x * mask
        dx   = dout * mask                                   the stored mask, as in ReLU

    **Evaluation mode** (``eval()``): the identity, ``out = x`` and ``dx =
    dout``; no random numbers are drawn. Because training already scaled the
    kept entries, nothing needs rescaling at evaluation ("inverted" dropout).
    ``backward`` follows the mode of the ``forward`` it comes after.

    Input checks as in ``Linear``: ``checked=True`` (passed by ``Sequential``
    for an array another companion layer computed) skips the float64
    conversion and the NaN/infinity scan; the shape check always runs.
    """

    def __init__(self, rate, *, rng=None):
        self.rate = number_in(rate, "rate", "Dropout", 0.0, 1.0, closed_low=True)
        self.rng = as_rng(rng)
        self.training = True
        self.mask = None        # (shape of x) the scaled keep-mask of the last training forward
        self._shape = None      # shape of the last forward input (None: no forward yet)

    def __repr__(self):
        return f"Dropout(rate={self.rate:g})"

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode=True):
        """Training mode (entries dropped); ``train(False)`` is ``eval()``. Returns self."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (the identity). Returns self."""
        return self.train(False)

    def forward(self, x, *, checked=False):
        if not checked:
            x = as_float_array(x, "input x", self.__repr__)
        self._shape = x.shape
        if not self.training or self.rate == 0.0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.rate           # True with probability 1 - rate
        self.mask = keep * (1.0 / (1.0 - self.rate))            # 0 or 1/(1 - rate)
        return x * self.mask

    def backward(self, dout, *, checked=False):
        require_forward(self._shape, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, self._shape, "upstream gradient dout (the shape of forward's output)", self.__repr__)
        return dout if self.mask is None else dout * self.mask
