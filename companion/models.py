"""The book's networks, each built from one seeded generator.

Chapters "Training a digit classifier" (``digits_mlp``) and "A CNN on the
digits" (``digits_cnn``): both take ``(n, 64)`` rows of pixels or ``(n, 1, 8,
8)`` images as their chapter says, and output ``(n, 10)`` logits. Chapter "A
tiny character-level language model" (``char_rnn``, ``char_transformer``):
both take character ids ``(n, S)`` and output logits ``(n, S, C)``, a score
for every character of the vocabulary at every position. Calling one twice
with the same seed gives the same weights, so a later chapter can compare with
an earlier chapter's network without copying its code.
"""

import numpy as np

from .attention import TransformerBlock
from .conv import Conv2d, Flatten, MaxPool2d
from .functions import ReLU
from .language_model import LearnedPositions
from .layers import Linear, Sequential
from .normalization import LayerNorm
from .sequence import RNN, Embedding


def digits_mlp(seed=0):
    """The multilayer perceptron of "Training a digit classifier": 64-256-128-10 with ReLUs (50,826 parameters).

    Input ``(n, 64)``, output ``(n, 10)`` logits; He weights from
    ``np.random.default_rng(seed)``, drawn layer by layer.
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        Linear(64, 256, rng=rng), ReLU(),      # (n, 64)  -> (n, 256)
        Linear(256, 128, rng=rng), ReLU(),     # (n, 256) -> (n, 128)
        Linear(128, 10, rng=rng),              # (n, 128) -> (n, 10): logits
    )


def digits_cnn(seed=0):
    """The convolutional network of "A CNN on the digits" (13,706 parameters).

    Input ``(n, 1, 8, 8)`` images, output ``(n, 10)`` logits::

        Conv2d(1, 16, 3, padding=1), ReLU    (n, 16, 8, 8)
        MaxPool2d(2)                         (n, 16, 4, 4)
        Conv2d(16, 32, 3, padding=1), ReLU   (n, 32, 4, 4)
        MaxPool2d(2)                         (n, 32, 2, 2)
        Flatten                              (n, 128)
        Linear(128, 64), ReLU                (n, 64)
        Linear(64, 10)                       (n, 10)

    He weights from ``np.random.default_rng(seed)``, drawn layer by layer.
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(128, 64, rng=rng), ReLU(),
        Linear(64, 10, rng=rng),
    )


def char_rnn(vocab_size, dim=32, hidden=96, seed=0):
    """A character-level recurrent network: ids (n, S) -> logits (n, S, C), with C = ``vocab_size``::

        Embedding(C, dim)         (n, S, dim)       a learned vector per character
        RNN(dim, hidden)          (n, S, hidden)    H_tau = tanh(X_tau W_x + H_(tau-1) W_h + b), H_0 = 0
        Linear(hidden, C)         (n, S, C)         the next character's logits at every position

    The state at position tau has read the characters 1..tau and no later
    ones, so every position predicts its next character from the past only.
    Weights from ``np.random.default_rng(seed)``, drawn layer by layer (the
    output layer Xavier-initialised: no ReLU follows it).
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        Embedding(vocab_size, dim, rng=rng),           # (n, S)         -> (n, S, dim)
        RNN(dim, hidden, rng=rng),                     # (n, S, dim)    -> (n, S, hidden)
        Linear(hidden, vocab_size, init="xavier", rng=rng),  # (n, S, hidden) -> (n, S, C)
    )


def char_transformer(vocab_size, dim=32, heads=4, blocks=1, max_length=32, seed=0, causal=True):
    """A character-level causal transformer: ids (n, S) -> logits (n, S, C), with S <= ``max_length``::

        Embedding(C, dim)                      (n, S, dim)   a learned vector per character
        LearnedPositions(max_length, dim)      (n, S, dim)   plus a learned vector per position
        TransformerBlock(dim, heads, causal)   (n, S, dim)   ``blocks`` times: attention to the past only
        LayerNorm(dim)                         (n, S, dim)
        Linear(dim, C)                         (n, S, C)     the next character's logits at every position

    The causal mask lets position tau attend to positions 1..tau only, so, as
    in ``char_rnn``, every position predicts its next character from the past.
    (``causal=False`` removes the mask: the bug of an exercise, which lets a
    position see the character it must predict.) Weights from
    ``np.random.default_rng(seed)``, drawn layer by layer; ``causal`` does not
    change them.
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        Embedding(vocab_size, dim, rng=rng),
        LearnedPositions(max_length, dim, rng=rng),
        *[TransformerBlock(dim, heads, causal=causal, rng=rng) for _ in range(blocks)],
        LayerNorm(dim),
        Linear(dim, vocab_size, init="xavier", rng=rng),
    )
