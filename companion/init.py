"""Weight initialisers.

Chapter "Matrix gradients for a minibatch".

Every initialiser takes ``(fan_in, fan_out, rng)`` and returns a float64
array of shape ``(fan_in, fan_out)``. ``rng`` is a ``numpy.random.Generator``
or an integer seed; pass the same seed to get the same weights.
"""

import numpy as np

from ._validate import as_rng, positive_int


def he_normal(fan_in, fan_out, rng=None):
    """Normal(0, 2/fan_in) weights (He et al., 2015): keeps ReLU activations' scale."""
    fan_in, fan_out = positive_int(fan_in, "fan_in", "he_normal"), positive_int(fan_out, "fan_out", "he_normal")
    return as_rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def xavier_normal(fan_in, fan_out, rng=None):
    """Normal(0, 2/(fan_in + fan_out)) weights (Glorot and Bengio, 2010): for tanh and sigmoid."""
    fan_in, fan_out = positive_int(fan_in, "fan_in", "xavier_normal"), positive_int(fan_out, "fan_out", "xavier_normal")
    return as_rng(rng).normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


INITIALIZERS = {"he": he_normal, "xavier": xavier_normal}


def get_initializer(name):
    """Look up an initialiser by name ("he" or "xavier")."""
    try:
        return INITIALIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown initialiser {name!r}; expected one of {sorted(INITIALIZERS)}"
        ) from None
