"""Weight initialisers.

Chapter "Matrix gradients for a minibatch"; chapter "Initialisation and the
depth problem" derives He's and Xavier's scales and shows what the unscaled
``standard_normal`` does to a deep network.

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


def standard_normal(fan_in, fan_out, rng=None):
    """Normal(0, 1) weights, whatever the layer's size: too large for deep networks (the depth chapter's warning)."""
    fan_in = positive_int(fan_in, "fan_in", "standard_normal")
    fan_out = positive_int(fan_out, "fan_out", "standard_normal")
    return as_rng(rng).normal(0.0, 1.0, size=(fan_in, fan_out))


INITIALIZERS = {"he": he_normal, "xavier": xavier_normal, "standard_normal": standard_normal}


def get_initializer(name):
    """An initialiser: looked up by name ("he", "xavier" or "standard_normal"), or ``name`` itself if callable.

    A callable must take ``(fan_in, fan_out, rng)`` and return a
    ``(fan_in, fan_out)`` array, e.g. ``lambda i, o, rng: 0.01 * standard_normal(i, o, rng)``.
    """
    if callable(name):
        return name
    try:
        return INITIALIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown initialiser {name!r}; expected one of {sorted(INITIALIZERS)} or a function "
            f"(fan_in, fan_out, rng) -> W"
        ) from None
