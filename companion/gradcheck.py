"""Numerical gradients: the independent check every backward pass is held to.

Chapters "Local derivative rules" (first use) and "Checking gradients
numerically" (the full story: step size, round-off, kinks).

- ``numerical_gradient(f, x)``: central differences, any array shape.
- ``relative_error(a, b)``: how far an analytic gradient is from a numerical one.
- ``gradient_check(f, x, grad)``: the two together, with a printed verdict.
- ``layer_gradient_errors(layer, *inputs)``: check a layer's ``backward``
  (inputs and parameters) against ``numerical_gradient``.
- ``gradient_errors(f, params, grads)``: check hand-derived gradients of a
  loss written as a function of several named arrays, ``f(**params)``.
- ``step_size_errors(f, x, grad, steps)``: the error of finite differences as
  a function of the step h (truncation against round-off), in float64 or float32.
- ``numerical_parameter_gradient(loss, param)``: the numerical gradient with
  respect to an array that ``loss()`` reads, such as a layer's weights.
- ``tensor_gradient_errors(f, *inputs)``: the same for a function built from
  ``companion.autodiff.Tensor`` operations (chapter "Automatic differentiation").
- ``numerical_jacobian(f, x)``: every partial derivative of an array-valued
  ``f``, as a matrix (chapter "Backward as vector-Jacobian products").
"""

import numpy as np

from ._validate import as_float_array, as_output, as_rng
from .autodiff import Tensor

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


def gradient_errors(f, params, grads, h=1e-5):
    """Check the gradients of a function of several named arrays; return max relative errors.

    ``f(**params)`` returns one number (a loss); ``params`` maps each argument
    name of ``f`` to its value (an array or a number); ``grads`` maps some or
    all of those names to the analytic gradient of ``f`` with respect to that
    argument (same shape). Each named array is varied in turn, with the others
    held at ``params``, and compared with ``numerical_gradient``.

    Returns ``{name: relative error}`` for the names in ``grads``, in their
    order, like ``layer_gradient_errors``; ``params`` is never modified.
    """
    owner = "gradient_errors"
    unknown = [name for name in grads if name not in params]
    if unknown:
        raise ValueError(f"{owner}: grads has {unknown}, which are not in params; expected names among {list(params)}")
    errors = {}
    for name, grad in grads.items():
        analytic = as_float_array(grad, f"gradient {name!r}", owner)
        if analytic.shape != np.shape(params[name]):
            raise ValueError(
                f"{owner}: gradient {name!r} has shape {analytic.shape}, expected the shape of "
                f"params[{name!r}], {np.shape(params[name])}"
            )

        def f_of(value, name=name):
            return f(**{**params, name: value})

        errors[name] = relative_error(analytic, numerical_gradient(f_of, params[name], h=h))
    return errors


def step_size_errors(f, x, grad, steps, method="central", dtype=np.float64):
    """Relative error of the finite-difference gradient of ``f`` at ``x``, one per step size.

    For each ``h`` in ``steps`` (a 1-D sequence of positive numbers) this is
    ``relative_error(numerical_gradient(f, x, h, method), grad)``: how far the
    estimate is from the exact gradient ``grad`` (shaped like ``x``). Large
    ``h`` suffers truncation error (about h for "forward", h**2 for
    "central"); small ``h`` suffers round-off (about eps/h).

    ``dtype`` is the precision ``f`` computes in: ``f`` receives the
    perturbed point converted to ``dtype`` (``np.float32`` shows the much
    larger round-off of single precision), so ``f`` must keep that dtype
    inside (numpy does, as long as ``f`` mixes in no float64 arrays).
    Returns a float64 array of shape ``(len(steps),)``.
    """
    owner = "step_size_errors"
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"{owner}: dtype must be a floating-point type such as np.float32, got {dtype}")
    steps = as_float_array(steps, "steps", owner)
    if steps.ndim != 1 or steps.size == 0 or (steps <= 0).any():
        raise ValueError(
            f"{owner}: steps must be a 1-D sequence of positive numbers, got shape {steps.shape}"
            + (f" with min {steps.min():g}" if steps.size else "")
        )
    exact = as_float_array(grad, "exact gradient grad", owner)
    if exact.shape != np.shape(x):
        raise ValueError(f"{owner}: grad has shape {exact.shape}, expected x's shape {np.shape(x)}")

    def f_in_dtype(point):
        return f(np.asarray(point, dtype=dtype))

    return np.array([relative_error(numerical_gradient(f_in_dtype, x, h=h, method=method), exact)
                     for h in steps])


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


def tensor_gradient_errors(f, *inputs, rng=None, h=1e-5, **named_inputs):
    """Check ``Tensor.backward`` through ``f`` against numerical gradients; return max relative errors.

    ``f`` takes one ``companion.autodiff.Tensor`` per input array and returns
    a Tensor built from their operations. Inputs are positional (named ``x``,
    ``y``, ``z``, then ``input 3``, ... in the result) or keyword
    (``tensor_gradient_errors(loss, W1=..., b1=...)`` calls ``loss(W1=..., b1=...)``
    and names the errors ``W1``, ``b1``). As in ``layer_gradient_errors``, the
    scalar differentiated is ``sum(f(...) * dout)`` with a random ``dout`` of
    the output's shape (drawn from ``rng``); ``gradient_errors`` then compares
    each input's ``.grad`` with central differences. Returns ``{name: error}``.
    """
    owner = "tensor_gradient_errors"
    if not callable(f):
        raise TypeError(f"{owner}: f must be a function of Tensors, got {type(f).__name__}")
    positional = ["xyz"[k] if k < 3 else f"input {k}" for k in range(len(inputs))]
    arrays = {name: as_float_array(a, f"input {name!r}", owner)
              for name, a in [*zip(positional, inputs), *named_inputs.items()]}

    def call(values):
        tensors = {name: Tensor(value) for name, value in values.items()}
        out = f(*(tensors[name] for name in positional), **{k: tensors[k] for k in named_inputs})
        if not isinstance(out, Tensor):
            raise TypeError(f"{owner}: f must return a Tensor (built from its arguments), got {type(out).__name__}")
        return tensors, out

    tensors, out = call(arrays)
    dout = as_rng(rng).standard_normal(out.shape)
    (out * dout).sum().backward()
    grads = {name: t.grad if t.grad is not None else np.zeros(t.shape)  # an unused input: zero gradient
             for name, t in tensors.items()}
    return gradient_errors(lambda **values: float(np.sum(call(values)[1].data * dout)), arrays, grads, h=h)


def numerical_jacobian(f, x, h=1e-5):
    """Central-difference Jacobian of an array-valued function ``f`` at ``x``: shape ``(f(x).size, x.size)``.

    Entry ``(a, b)`` estimates the derivative of output entry ``a`` with
    respect to input entry ``b``, both counted in row-major order (the order
    of ``.ravel()``), so that for any upstream gradient ``dout`` of ``f(x)``'s
    shape, ``dout.ravel() @ J`` is the gradient ``backward(dout)`` returns,
    raveled. Column ``b`` is ``(f(x + h e_b) - f(x - h e_b)) / (2h)``. Meant
    for small examples: it has ``f(x).size * x.size`` entries.
    """
    owner = "numerical_jacobian"
    if not (np.ndim(h) == 0 and np.isfinite(h) and h > 0):
        raise ValueError(f"{owner}: step h must be a positive finite number, got {h!r}")
    x = as_float_array(x, "x", owner).copy()
    point = x.reshape(-1)  # a view into our copy
    columns = []
    for b in range(x.size):
        original = point[b]
        point[b] = original + h
        plus = as_float_array(f(x.copy()), "the value f returned", owner).ravel()
        point[b] = original - h
        minus = as_float_array(f(x.copy()), "the value f returned", owner).ravel()
        point[b] = original
        columns.append((plus - minus) / (2 * h))
    return np.stack(columns, axis=1) if columns else np.zeros((np.size(f(x.copy())), 0))
