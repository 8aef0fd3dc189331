"""Input checks shared by every module, so bad input always fails the same clear way.

Each helper takes ``owner``, the name of the layer or function being called,
so a message reads like ``Linear: input x has shape (5, 3), expected (n, 4)``.
``owner`` is a string, or a function that returns one, such as a layer's
``self.__repr__``: it is called only when an error is raised, so correct
input never pays for formatting a message (see "Input checks" in CONTRIBUTING.md).
"""

import math

import numpy as np


def owner_name(owner):
    """The name an error message starts with: ``owner`` itself, or ``owner()`` when it is a function."""
    return owner if isinstance(owner, str) else owner()


def is_companion_layer(layer):
    """True for a layer (or loss) that companion defines: it accepts ``checked=`` in forward and backward.

    Such layers trust an array passed with ``checked=True`` (a finite float64
    array that another companion layer computed) and skip scanning it again.
    A class defined outside companion, even a subclass of ``Linear``, is a
    layer of your own: it is called without ``checked``, and what it returns
    is checked.
    """
    return type(layer).__module__.startswith("companion.")


def as_float_array(x, name, owner):
    """Return ``x`` as a float64 ndarray (any shape), or raise a clear error.

    Raises ``TypeError`` for things that are not numbers (strings, None,
    objects) and ``ValueError`` for NaN or infinite entries.
    """
    raw = np.asarray(x)
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner_name(owner)}: {name} must be real numbers (an int/float or a numeric "
            f"array), got {type(x).__name__} with dtype {raw.dtype}"
        )
    arr = raw.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        where = np.argwhere(~np.isfinite(arr))[0]
        index = tuple(int(i) for i in where) if arr.ndim else ()
        raise ValueError(
            f"{owner_name(owner)}: {name} contains NaN or infinity (first at index {index}, "
            f"value {arr[index]}); expected finite numbers"
        )
    return arr


def as_float(x, name, owner):
    """Return the number ``x`` as a Python float, or raise as ``as_float_array`` does.

    A finite Python float (such as a loss's default ``dout=1.0``) is returned
    as it is, without building an array.
    """
    if type(x) is float and math.isfinite(x):
        return x
    return float(as_float_array(x, name, owner))


def as_output(arr):
    """Hand a result back to the caller: a Python float for 0-d results, else the array."""
    return arr if type(arr) is np.ndarray and arr.ndim else float(arr)


def check_shape(arr, expected, name, owner):
    """Raise ``ValueError`` unless ``arr.shape`` equals ``expected``."""
    if arr.shape != tuple(expected):
        raise ValueError(
            f"{owner_name(owner)}: {name} has shape {arr.shape}, expected {tuple(expected)}"
        )


def positive_int(value, name, owner):
    """Return ``value`` as an int, or raise ``ValueError`` unless it is a positive integer (bools refused)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner_name(owner)}: {name} must be a positive integer, got {value!r}")
    return int(value)


def require_forward(cached, owner):
    """Raise ``RuntimeError`` when backward is called before forward."""
    if cached is None:
        raise RuntimeError(
            f"{owner_name(owner)}: backward() called before forward(); run forward first so "
            f"the layer has the inputs its local derivatives need"
        )


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the axes numpy broadcasting added, so it has ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward
    pass, every copy of an entry received a gradient; the entry's gradient is
    their sum. Example: ``shape=(3,)`` and ``grad.shape=(5, 3)`` sums the rows.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)  # leading axes that broadcasting added
    stretched = tuple(extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=tuple(range(extra)) + stretched).reshape(shape)  # one fused reduction


def as_rng(rng):
    """Return a ``numpy.random.Generator`` from a Generator, an int seed, or None.

    None gives a fresh, unseeded generator (different numbers every run); the
    book always passes a seed or a Generator so that its outputs reproduce.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


def as_labels(target, n, num_classes, owner):
    """Return class labels, an int array of shape ``(n,)`` with values in ``0..num_classes-1``.

    ``target`` is either integer labels of shape ``(n,)`` (whole-number floats
    such as ``3.0`` are accepted) or one-hot rows of shape ``(n, num_classes)``,
    whose labels are the column of each row's 1. Anything else raises a
    ``TypeError``/``ValueError`` that names ``owner`` and says what was expected.
    """
    raw = np.asarray(target)
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner_name(owner)}: targets must be integer labels or one-hot rows, "
            f"got {type(target).__name__} with dtype {raw.dtype}"
        )
    if raw.ndim == 2 and raw.shape == (n, num_classes):
        onehot = as_float_array(raw, "one-hot targets", owner)
        labels = onehot.argmax(axis=1)
        if not np.array_equal(onehot, np.eye(num_classes)[labels]):
            bad = int(np.argmax((onehot != np.eye(num_classes)[labels]).any(axis=1)))
            raise ValueError(
                f"{owner_name(owner)}: one-hot targets must have a single 1 in each row and 0 elsewhere; "
                f"row {bad} is {onehot[bad].tolist()}"
            )
        return labels
    if raw.ndim != 1 or raw.shape[0] != n:
        raise ValueError(
            f"{owner_name(owner)}: targets have shape {raw.shape}, expected labels of shape ({n},) "
            f"or one-hot rows of shape ({n}, {num_classes})"
        )
    if raw.dtype.kind == "f":
        raw = as_float_array(raw, "labels", owner)
        if not np.array_equal(raw, np.round(raw)):
            i = int(np.argmax(raw != np.round(raw)))
            raise ValueError(f"{owner_name(owner)}: labels must be whole numbers, got {float(raw[i])!r} at index {i}")
    labels = raw.astype(np.intp, copy=False)
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        i = int(np.argmax((labels < 0) | (labels >= num_classes)))
        raise ValueError(
            f"{owner_name(owner)}: label {labels[i]} at index {i} is out of range; expected labels in "
            f"0..{num_classes - 1} for {num_classes} classes"
        )
    return labels


def number_in(value, name, owner, low, high, closed_low=False, closed_high=False):
    """``value`` as a float inside the interval from ``low`` to ``high``, or a clear ``ValueError``.

    The ends are open unless ``closed_low``/``closed_high``: ``number_in(m,
    "momentum", "BatchNorm", 0, 1, closed_low=True, closed_high=True)``
    accepts 0 <= m <= 1. Bools, NaN and infinity are refused.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    value = float(value) if ok else value
    inside = (ok and np.isfinite(value) and (low <= value if closed_low else low < value)
              and (value <= high if closed_high else value < high))
    if not inside:
        interval = f"{'[' if closed_low else '('}{low:g}, {high:g}{']' if closed_high else ')'}"
        raise ValueError(f"{owner}: {name} must be a number in {interval}, got {value!r}")
    return value
