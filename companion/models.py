"""The book's networks for the 8x8 digits, each built from one seeded generator.

Chapters "Training a digit classifier" (``digits_mlp``) and "A CNN on the
digits" (``digits_cnn``). Both take ``(n, 64)`` rows of pixels or ``(n, 1, 8,
8)`` images as their chapter says, and output ``(n, 10)`` logits. Calling one
twice with the same seed gives the same weights, so a later chapter can
compare with an earlier chapter's network without copying its code.
"""

import numpy as np

from .conv import Conv2d, Flatten, MaxPool2d
from .functions import ReLU
from .layers import Linear, Sequential


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
