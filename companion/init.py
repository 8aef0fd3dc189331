"""Weight initialisers.

Chapter "Matrix gradients for a minibatch".

Every initialiser takes ``(fan_in, fan_out, rng)`` and returns a float64
array of shape ``(fan_in, fan_out)``. ``rng`` is a ``numpy.random.Generator``
or an integer seed; pass the same seed to get the same weights.
"""

import numpy as np

from ._validate import as_rng


def _fans(fan_in, fan_out, owner):
    """Check that both fans are positive integers (the layer's input and output sizes)."""
    for label, size in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{owner}: {label} must be a positive integer, got {size!r}")
    return int(fan_in), int(fan_out)


def he_normal(fan_in, fan_out, rng=None):
    """Normal(0, 2/fan_in) weights (He et al., 2015): keeps ReLU activations' scale."""
    fan_in, fan_out = _fans(fan_in, fan_out, "he_normal")
    return as_rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def xavier_normal(fan_in, fan_out, rng=None):
    """Normal(0, 2/(fan_in + fan_out)) weights (Glorot and Bengio, 2010): for tanh and sigmoid."""
    fan_in, fan_out = _fans(fan_in, fan_out, "xavier_normal")
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
