"""A character-level language model's own pieces: learned positions, and sampling text from a model.

Chapter "A tiny character-level language model". (The text and its
vocabulary are in ``companion.datasets``, the networks in ``companion.models``,
the training loop in ``companion.training``.)

- ``LearnedPositions(max_length, dim)``: adds a learned vector to every
  position of a sequence, ``x (n, S, d) -> x + W[:S]``. Attention treats its
  inputs as a set; these vectors tell it where each character stands.
- ``sample(model, vocab, prompt, length, rng=...)``: extend a prompt one
  character at a time, each drawn from the model's predicted probabilities.
"""

import numpy as np

from ._validate import as_float_array, as_rng, check_shape, number_in, positive_int, require_forward
from .layers import HasParameters
from .losses import softmax
from .training import _mode


class LearnedPositions(HasParameters):
    """Learned position vectors: ``out[i, tau] = x[i, tau] + W[tau]``.

    Shapes::

        x        (n, S, d)             S <= max_length
        W        (max_length, d)       one vector per position, drawn N(0, 0.1**2)
        out      (n, S, d)

    Backward, given ``dout`` (n, S, d): every sample added the same ``W[tau]``,
    so its gradient is the sum over the samples (axis 0), as for a bias;
    positions beyond S get zero::

        grad_W[:S] = dout.sum(axis=0)          (S, d)
        dx         = dout                      (n, S, d)
    """

    def __init__(self, max_length, dim, *, rng=None):
        max_length = positive_int(max_length, "max_length", "LearnedPositions")
        dim = positive_int(dim, "dim", "LearnedPositions")
        self.W = 0.1 * as_rng(rng).standard_normal((max_length, dim))
        self.grad_W = np.zeros_like(self.W)
        self.shape = None

    def __repr__(self):
        return f"LearnedPositions({self.W.shape[0]}, {self.W.shape[1]})"

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x, *, checked=False):
        if not checked:
            x = as_float_array(x, "input x", self.__repr__)
        max_length, dim = self.W.shape
        if x.ndim != 3 or x.shape[2] != dim or x.shape[1] > max_length:
            raise ValueError(f"{self!r}: input x has shape {x.shape}, expected (n, S, {dim}) with S <= {max_length} "
                             f"(the positions it has vectors for)")
        self.shape = x.shape
        return x + self.W[:x.shape[1]]

    def backward(self, dout, *, checked=False):
        require_forward(self.shape, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, self.shape, "upstream gradient dout", self.__repr__)
        length = self.shape[1]
        dout.sum(axis=0, out=self.grad_W[:length])   # one term per sample, as for a bias
        self.grad_W[length:] = 0.0                   # positions not used: no gradient
        return dout

    def named_parameters(self):
        return [("W", self.W, self.grad_W)]


def sample(model, vocab, prompt, length, *, rng=0, temperature=1.0, context=None):
    """``prompt`` followed by ``length`` characters drawn one at a time from ``model``; returns the whole string.

    At every step the model reads the text so far (its last ``context``
    characters, if given: a model with ``LearnedPositions`` cannot read more
    than its ``max_length``), as ids of shape (1, S), and returns logits
    (1, S, C); the last position's logits ``u`` (C,) give the probabilities of
    the next character, ``softmax(u / temperature)``. A temperature below 1
    sharpens them, above 1 flattens them; ``temperature=0`` always takes the
    most likely character. The draws come from ``rng`` (an int seed or a
    Generator): the same seed gives the same text.
    """
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"sample: prompt must be a non-empty str (the model needs a first character), got {prompt!r}")
    ids = list(vocab.encode(prompt))
    length = positive_int(length, "length", "sample")
    temperature = number_in(temperature, "temperature", "sample", 0.0, np.inf, closed_low=True)
    context = None if context is None else positive_int(context, "context", "sample")
    rng = as_rng(rng)
    with _mode(model, training=False):   # evaluation mode while sampling, then the mode it was in
        for _ in range(length):
            window = np.array(ids[-context:] if context else ids)[None]     # (1, S)
            logits = np.asarray(model.forward(window))
            if logits.shape[:2] != window.shape or logits.ndim != 3 or logits.shape[2] != vocab.size:
                raise ValueError(f"sample: the model returned logits of shape {logits.shape} for ids of shape "
                                 f"{window.shape}; expected (1, {window.shape[1]}, {vocab.size}), one score per "
                                 f"character of the vocabulary at every position")
            u = logits[0, -1]                                              # (C,) the next character's logits
            if temperature == 0:
                ids.append(int(np.argmax(u)))
            else:
                p = softmax((u / temperature)[None])[0]
                ids.append(int(rng.choice(vocab.size, p=p)))
    return vocab.decode(np.array(ids))
