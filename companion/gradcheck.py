"""Numerical gradients: the independent check every backward pass is held to.

Chapters "Local derivative rules" (first use) and "Checking gradients
numerically" (the full story: step size, round-off, kinks).

- ``numerical_gradient(f, x)``: central differences, any array shape.
- ``relative_error(a, b)``: how far an analytic gradient is from a numerical one.
- ``gradient_check(f, x, grad)``: the two together, with a printed verdict.
- ``layer_gradient_errors(layer, *inputs)``: check a layer's ``backward``
  (inputs and parameters) against ``numerical_gradient``.
- ``numerical_parameter_gradient(loss, param)``: the numerical gradient with
  respect to an array that ``loss()`` reads, such as a layer's weights.
"""

import numpy as np

from ._validate import as_float_array, as_output, as_rng

METHODS = ("central", "forward")


def _scalar(value, owner):
    """The loss value ``f`` returned, as a float; ``f`` must return one number."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(
            f"{owner}: f must return a single number (a loss), got an array of shape "
            f"{arr.shape}; to check an array-valued function g, use "
            f"f = lambda x: np.sum(g(x) * dout) with a random dout of g's output shape"
        )
    return float(as_float_array(arr, "the value f returned", owner).reshape(()))


def numerical_gradient(f, x, h=1e-5, method="central"):
    """Finite-difference estimate of the gradient of a scalar function ``f`` at ``x``.

    ``x`` is a number or an array of any shape; ``f`` takes an array of that
    shape and returns one number. Entry by entry::

        central:  (f(x + h e_i) - f(x - h e_i)) / (2h)    error O(h^2)
        forward:  (f(x + h e_i) - f(x)) / h               error O(h)

    ``x`` is copied to float64 first, so the caller's array is never changed.
    Returns an array shaped like ``x`` (a float when ``x`` is a number).
    """
    owner = "numerical_gradient"
    if method not in METHODS:
        raise ValueError(f"{owner}: unknown method {method!r}; expected one of {METHODS}")
    if not (np.ndim(h) == 0 and np.isfinite(h) and h > 0):
        raise ValueError(f"{owner}: step h must be a positive finite number, got {h!r}")
    x = as_float_array(x, "x", owner).copy()
    point = x.reshape(-1)  # a view into our copy: writing point[i] moves x
    grad = np.empty(x.size)
    f_x = _scalar(f(as_output(x)), owner) if method == "forward" else None
    for i in range(x.size):
        original = point[i]
        point[i] = original + h
        f_plus = _scalar(f(as_output(x)), owner)
        if method == "central":
            point[i] = original - h
            f_minus = _scalar(f(as_output(x)), owner)
            grad[i] = (f_plus - f_minus) / (2 * h)
        else:
            grad[i] = (f_plus - f_x) / h
        point[i] = original
    return as_output(grad.reshape(x.shape))


def relative_error(a, b, floor=1e-8):
    """Largest entrywise relative difference between two gradients.

    ``max_i |a_i - b_i| / max(|a_i| + |b_i|, floor)``. The ``floor`` keeps
    entries that are both (nearly) zero from dividing by zero: below it the
    comparison is effectively absolute. 0 means identical; about 1e-7 or less
    is what a correct float64 backward typically gets against central
    differences with h = 1e-5.
    """
    a = as_float_array(a, "first gradient", "relative_error")
    b = as_float_array(b, "second gradient", "relative_error")
    if a.shape != b.shape:
        raise ValueError(f"relative_error: gradients have shapes {a.shape} and {b.shape}; expected equal shapes")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def gradient_check(f, x, grad, h=1e-5, tol=1e-7, verbose=True):
    """Compare an analytic gradient ``grad`` of ``f`` at ``x`` with central differences.

    Prints a one-line verdict (unless ``verbose=False``) and returns the max
    relative error (a float). On failure the line names the worst entry.
    """
    numeric = np.asarray(numerical_gradient(f, x, h=h))
    analytic = as_float_array(grad, "analytic gradient grad", "gradient_check")
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"gradient_check: grad has shape {analytic.shape}, expected x's shape {numeric.shape}"
        )
    err = relative_error(analytic, numeric)
    if verbose:
        if err <= tol:
            print(f"gradient check passed: max relative error {err:.0e} <= {tol:.0e}")
        else:
            worst = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
            index = np.unravel_index(np.argmax(worst), worst.shape) if worst.ndim else ()
            index = tuple(int(i) for i in index)
            print(
                f"gradient check FAILED: max relative error {err:.1e} > {tol:.0e}; "
                f"worst entry {index}: analytic {analytic[index]:.6g}, numerical {numeric[index]:.6g}"
            )
    return err


def layer_gradient_errors(layer, *inputs, rng=None, h=1e-5):
    """Check ``layer.backward`` against numerical gradients; return max relative errors.

    The scalar differentiated is ``sum(layer.forward(*inputs) * dout)`` with a
    random ``dout`` (drawn from ``rng``), so every output entry counts. Works
    for one-input layers (``backward`` returns ``dx``), two-input nodes
    (returns ``(dx, dy)``) and layers with ``named_parameters()``.

    Returns a dict such as ``{"x": 3e-11, "W": 2e-11, "b": 1e-11}``: inputs
    are named ``x`` and ``y``, parameters by their names.
    """
    rng = as_rng(rng)
    inputs = [as_float_array(v, f"input {name}", "layer_gradient_errors") for name, v in zip("xy", inputs)]
    out = np.asarray(layer.forward(*inputs))
    dout = rng.standard_normal(out.shape)
    analytic = layer.backward(dout if out.ndim else float(dout))
    analytic = analytic if isinstance(analytic, tuple) else (analytic,)
    named = layer.named_parameters() if hasattr(layer, "named_parameters") else []
    param_grads = {name: grad.copy() for name, _, grad in named}

    def loss(*args):
        return np.sum(np.asarray(layer.forward(*args)) * dout)

    errors = {}
    for k, name in enumerate("xy"[: len(inputs)]):
        def f_input(value, k=k):
            args = list(inputs)
            args[k] = value
            return loss(*args)
        errors[name] = relative_error(analytic[k], numerical_gradient(f_input, inputs[k], h=h))
    for name, param, _ in named:
        numeric = numerical_parameter_gradient(lambda: loss(*inputs), param, h=h)
        errors[name] = relative_error(param_grads[name], numeric)
    layer.forward(*inputs)  # leave the layer's cache as the caller's forward left it
    return errors


def numerical_parameter_gradient(loss, param, h=1e-5):
    """Central-difference gradient of ``loss()`` with respect to the array ``param``.

    ``loss`` takes no arguments and reads ``param`` (a layer's ``W``, say);
    each entry of ``param`` is moved by +-h *in place*, and ``param`` is
    restored afterwards, even if ``loss`` raises. Returns an array shaped like
    ``param``.
    """
    if not isinstance(param, np.ndarray):
        raise TypeError(
            f"numerical_parameter_gradient: param must be a numpy array that loss() reads, "
            f"got {type(param).__name__}"
        )
    saved = param.copy()

    def f(value):
        param[...] = value
        try:
            return loss()
        finally:
            param[...] = saved

    return numerical_gradient(f, saved, h=h)
