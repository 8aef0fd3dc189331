"""Homework checkers: call them from your own notebook; each prints a verdict.

Back matter; introduced in the preface ("Using companion").

- ``check_layer(layer)``: does your layer's ``backward`` agree with numerical
  gradients, for its input(s) and every parameter, on several random shapes
  (batch size 1 included)?
- ``check_gradient(f, grad_f, x)``: does your gradient function ``grad_f``
  agree with the numerical gradient of the scalar function ``f`` at ``x``?
- ``check_answer(label, answer)``: is your answer to the book's exercise
  ``label`` right? (The expected answer is never printed.)

Each prints one short verdict: "passed", or what is wrong, where (the first
wrong entry: yours against the numerical value) and a hint. Each returns a
``CheckResult``, which is true exactly when the check passed, so
``assert check_layer(MyLayer)`` works in your own tests.

A wrong answer never ends in a traceback: an exception raised by *your* code
is caught and reported in a few lines (which method raised what, at which
line of your code, and a hint). Mistakes in calling a checker itself (an
unknown exercise label, a negative tolerance) raise ``ValueError`` or
``TypeError`` as everywhere in companion.

The numerical gradients come from ``companion.gradcheck`` (central
differences); an entry counts as wrong when it differs from the numerical
value by more than ``rtol`` relative to their size and more than ``atol``.
The default ``rtol`` is ``RTOL = 1e-7``, the pass threshold of the chapter
"Checking gradients numerically", and every verdict names the tolerance it used.

Chapters add the answers of their exercises with ``register_answer``; the answers
themselves live in ``companion.answers``, one section per part of the book.
"""

import inspect
import os
import textwrap
import traceback
from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, as_output
from .gradcheck import numerical_gradient, numerical_parameter_gradient, relative_error

# The pass threshold of the chapter "Checking gradients numerically": a correct float64 backward is
# typically within 1e-9 of central differences; from 1e-7 to 1e-4 is that chapter's grey zone.
RTOL = 1e-7
ATOL = 1e-8  # below this, differences are round-off in the numerical gradient
LAYER_SIZES = ((1, 3, 2), (4, 5, 3), (3, 2, 4))  # (batch n, in_features, out_features) per trial
ELEMENTWISE_SHAPES = ((1, 3), (4, 5), (3, 2))  # input shapes per trial for layers without sizes
KINK = 0.01  # random inputs stay this far from 0, where ReLU-like functions have a kink
_THIS_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(np.__file__)


@dataclass(frozen=True)
class CheckResult:
    """What a checker found: ``passed``, the printed ``message``, the ``max_error`` seen.

    True in a boolean context exactly when the check passed.
    """

    passed: bool
    message: str
    max_error: float = None
    printed: bool = False  # the checker already printed the message

    def __bool__(self):
        return self.passed

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self):
        """In a notebook, a result ending a cell shows its verdict once: not again if already printed."""
        if not self.printed:
            print(self.message)


class _Failed(Exception):
    """Internal: stops a check at the first problem; its lines become the verdict."""

    def __init__(self, *lines):
        super().__init__(lines[0])
        self.lines = [line for line in lines if line]


WIDTH = 70  # verdicts wrap to fit a notebook's output area, even inside a solution box


def _wrap(text, indent):
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_long_words=False, break_on_hyphens=False)


def _finish(title, lines, passed, max_error, verbose):
    message = "\n".join([_wrap(title, "")] + [_wrap(line, "  ") for line in lines])
    if verbose:
        print(message)
    return CheckResult(passed, message, max_error, printed=bool(verbose))


def _check_tolerances(rtol, atol, owner):
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not (np.ndim(value) == 0 and np.isreal(value) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{owner}: {name} must be a non-negative number, got {value!r}")


# --- reporting an exception raised by the student's code -----------------------------------


def _raised(what, exc):
    """Lines describing an exception raised in ``what`` (e.g. "backward"), with a hint."""
    lines = [f"{what} raised {type(exc).__name__}: {exc}"]
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((_THIS_DIR, _NUMPY_DIR))]
    if frames and frames[-1].line:
        lines.append(f"at line {frames[-1].lineno}, in {frames[-1].name}: {frames[-1].line.strip()}")
    lines.append("hint: " + _exception_hint(what, exc))
    return lines


def _exception_hint(what, exc):
    text = str(exc)
    if isinstance(exc, AttributeError) and "grad_" in text:
        return ("a gradient attribute is missing or spelled differently where it is set and where it "
                "is read (companion's convention: backward sets self.grad_W and self.grad_b)")
    if isinstance(exc, AttributeError) and what.startswith("backward"):
        return ("backward reads something forward did not store; forward must keep what the local "
                "derivatives need (for example self.x = x)")
    if isinstance(exc, NameError):
        return "a name is not defined where the method runs: an import (numpy as np) or a helper is missing"
    if isinstance(exc, TypeError) and "NoneType" in text:
        return "a value is None: does every method end with return?"
    if isinstance(exc, (ValueError, IndexError)) and any(w in text for w in ("shape", "align", "broadcast", "dimension")):
        return ("array shapes do not fit; write each array's shape next to the line "
                "(x (n, d_in), W (d_in, d_out), dout (n, d_out)): usually a transpose is missing")
    if what.startswith(("forward", "__call__")) and isinstance(exc, (ValueError, ArithmeticError)):
        return ("if the function is defined only for some inputs (a logarithm needs x > 0), "
                "pass domain=(low, high), e.g. domain=(0.5, 2.0)")
    return f"run {what.split('(')[0]} by hand on a small input to see where it goes wrong"


# --- comparing a gradient with the numerical one -------------------------------------------


def _shape_hint(got, expected):
    if len(got) == 2 and got == expected[::-1]:
        return "it is transposed: a gradient has the shape of what it is the gradient of"
    if len(got) == len(expected) + 1 and got[1:] == expected:
        return ("it still has the batch axis: a parameter that every sample shares gets the sum of "
                "the samples' gradients, e.g. grad_b = dout.sum(axis=0)")
    return "a gradient always has the shape of what it is the gradient of"


def _as_numbers(value, what):
    """``value`` as a float64 array, or _Failed saying why it is not a usable result."""
    if value is None:
        raise _Failed(f"{what} is None", "hint: does the method end with a return statement?")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Failed(f"{what} is not an array of numbers: got {type(value).__name__}",
                      "hint: return a numpy array (or a number)") from None
    if not np.isfinite(arr).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise _Failed(f"{what} contains {arr[index]} at index {list(index)}",
                      "hint: look for a log of 0 or of a negative number, a division by 0, or exp of a "
                      "large number (overflow)")
    return arr


def _value_hint(yours, numeric, batch, fallback):
    def close(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-7)

    if not np.any(yours):
        return "yours is all zeros: is it computed from dout, and stored where the checker reads it?"
    if close(yours, -numeric):
        return "the sign is flipped"
    if close(yours, 2 * numeric) or close(2 * yours, numeric):
        return "off by a factor of 2: a 2 forgotten or counted twice (the 2 in the derivative of x**2?)"
    if batch and batch > 1 and (close(yours, batch * numeric) or close(batch * yours, numeric)):
        return (f"off by a factor of {batch}, the batch size: a layer's backward neither averages nor "
                f"multiplies by n (the loss's gradient already carries the 1/n)")
    if yours.ndim == 2 and close(yours.T, numeric):
        return "yours is the transpose of the right gradient"
    return fallback


GREY_TOP = 1e-4  # relative errors between the tolerance and this are the chapter's grey zone
GREY_HINT = ("the error is in the grey zone (1e-7 to 1e-4) of the chapter 'Checking gradients numerically': "
             "a small slip such as a constant slightly off, float32 arithmetic, a kink near an input, or entries "
             "much smaller than the rest; a correct float64 backward is usually within 1e-9")
LAYER_HINT = ("compare each local derivative with the chapter 'Local derivative rules', and check that "
              "backward uses the values forward stored (the input or the output?)")
FUNCTION_HINT = "differentiate f again one piece at a time (chain rule), and check each factor"


def _compare(name, yours, numeric, rtol, atol, batch=None, hint=LAYER_HINT, other="numerical"):
    """Raise _Failed unless ``yours`` agrees with ``numeric`` entrywise; return their relative error."""
    wrong = np.abs(yours - numeric) > np.maximum(rtol * (np.abs(yours) + np.abs(numeric)), atol)
    err = relative_error(yours, numeric)
    if wrong.any():
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        worst = np.unravel_index(np.argmax(np.abs(yours - numeric)), yours.shape)
        worst = tuple(int(i) for i in worst)

        def entry(index):
            where = f"{name}[{', '.join(map(str, index))}]" if index else name
            a, b = yours[index], numeric[index]
            digits = 6  # more where needed, so that the two printed numbers differ
            while digits < 17 and a != b and f"{a:.{digits}g}" == f"{b:.{digits}g}":
                digits += 1
            return f"{where}: yours {a:.{digits}g}, {other} {b:.{digits}g}"
        raise _Failed(
            f"{name} is wrong: max relative error {err:.1e} (tolerance {_tolerance(rtol)}); "
            f"{int(wrong.sum())} of {wrong.size} entries differ",
            f"first wrong entry {entry(first)}",
            f"largest difference {entry(worst)}" if worst != first else "",
            "hint: " + (GREY_HINT if err < GREY_TOP else _value_hint(yours, numeric, batch, hint)),
        )
    return err


def _tolerance(rtol):
    """The tolerance a verdict names, and why it is that one."""
    if rtol == RTOL:
        return f"{rtol:.0e}, the pass threshold of the chapter 'Checking gradients numerically'"
    return f"{rtol:.0e}, the rtol you passed; the chapter 'Checking gradients numerically' passes below {RTOL:.0e}"


def _passed_below(err, rtol, atol):
    return (f"max relative error {err:.0e}, below the tolerance {_tolerance(rtol)} "
            f"(entries closer than {atol:.0e} count as round-off).")


# --- check_layer -----------------------------------------------------------------------------


def _name(obj):
    return getattr(obj, "__name__", None) or type(obj).__name__


def _required_args(func):
    """How many positional arguments ``func`` needs (None if it cannot be told)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _forward_method(layer):
    forward = getattr(layer, "forward", None)
    if callable(forward):
        return forward, "forward"
    if callable(layer) and not isinstance(layer, type):
        return layer, "__call__"  # the chapter "The chain rule" writes forward as __call__
    return None, None


def _plan(layer, input_shapes, args, seed):
    """(make, trials): ``make(sizes)`` gives each trial's layer; a trial is (sizes, input shapes)."""
    sized, probe = False, layer
    if not isinstance(layer, type):
        def make(sizes):
            return layer
    elif args is not None or _required_args(layer) == 0:
        seeded = {"rng": seed} if _takes_rng(layer, args or ()) else {}

        def make(sizes):
            return layer(*(args or ()), **seeded)  # a generator the constructor takes is seeded too
        probe = None
    elif _required_args(layer) == 2:
        sized, takes_rng = True, "rng" in inspect.signature(layer).parameters

        def make(sizes):
            return layer(*sizes, rng=seed) if takes_rng else layer(*sizes)
    else:
        needs = _required_args(layer)
        raise _Failed(
            f"cannot create a {layer.__name__}: its constructor needs "
            + ("a variable number of arguments" if needs is None else f"{needs} arguments"),
            "hint: check_layer creates a class with no arguments or with (in_features, out_features); "
            "for other constructors pass args=(...), or pass an instance",
        )
    if input_shapes is not None:
        trials = [_shapes(s) for s in input_shapes]
        return make, [((s[0][-1], LAYER_SIZES[k % 3][2]) if sized else None, s) for k, s in enumerate(trials)]
    if sized:
        return make, [((d_in, d_out), ((n, d_in),)) for n, d_in, d_out in LAYER_SIZES]
    if probe is None:
        probe = _make(make, None, layer)
    width = _input_width(probe)
    if width is not None:
        return make, [(None, ((n, width),)) for n, _, _ in LAYER_SIZES]
    return make, [(None, (shape,)) for shape in ELEMENTWISE_SHAPES]


def _takes_rng(cls, args):
    """Whether ``cls(*args)`` leaves a parameter ``rng`` unset, which ``check_layer`` then seeds."""
    try:
        signature = inspect.signature(cls)
        return "rng" in signature.parameters and "rng" not in signature.bind_partial(*args).arguments
    except (TypeError, ValueError):
        return False


def _input_width(layer):
    """Features per sample a layer with weights expects: rows of its W (or of its first weight matrix).

    A layer whose parameters are all vectors of one length d (a normalisation
    layer's gamma and beta, one entry per feature) expects d features.
    """
    weights = [getattr(layer, name, None) for name in ("W", "gamma", "beta")]
    if hasattr(layer, "named_parameters"):
        try:
            weights += [param for _, param, _ in layer.named_parameters()]
        except Exception as exc:
            raise _Failed(*_raised("named_parameters()", exc)) from None
    matrices = [w for w in weights if isinstance(w, np.ndarray) and w.ndim == 2]
    if matrices:
        return matrices[0].shape[0]
    vectors = {w.shape for w in weights if isinstance(w, np.ndarray) and w.ndim == 1}
    return next(iter(vectors))[0] if len(vectors) == 1 else None


def _shapes(spec):
    """One trial's input shapes: ``(4, 3)`` means one input, ``((4, 3), (4, 3))`` two."""
    spec = tuple(spec)
    return tuple(map(tuple, spec)) if spec and all(isinstance(s, (tuple, list)) for s in spec) else (spec,)


def _make(make, sizes, layer):
    try:
        return make(sizes)
    except Exception as exc:
        raise _Failed(*_raised(f"creating {_name(layer)}{tuple(sizes) if sizes else '()'}", exc)) from None


def _parameters(layer):
    """[(name, param array, grad array or None)] after a backward, and problems with the names."""
    if hasattr(layer, "named_parameters"):
        try:
            return [(str(name), param, grad) for name, param, grad in layer.named_parameters()]
        except Exception as exc:
            raise _Failed(*_raised("named_parameters()", exc)) from None
    attrs = dict(vars(layer)) if hasattr(layer, "__dict__") else {}
    found = []
    for name, value in attrs.items():
        if name.startswith("grad_") or not isinstance(value, np.ndarray):
            continue
        if f"grad_{name}" in attrs or name in ("W", "w", "b", "weight", "bias", "gamma", "beta"):
            found.append((name, value, attrs.get(f"grad_{name}")))
    for name, _, grad in found:
        if grad is None:
            near = [k for k in attrs if k.lower() in (f"grad_{name}".lower(), f"d{name}".lower())]
            raise _Failed(
                f"backward did not set grad_{name}, the gradient of parameter {name}"
                + (f" (it set {near[0]}: companion reads grad_{name}, spelled exactly so)" if near else ""),
                f"hint: in backward, store the gradient of {name} as self.grad_{name} (same shape as {name})",
            )
    orphans = [k for k in attrs if k.startswith("grad_") and k[5:] not in attrs]
    if orphans:
        raise _Failed(f"backward set {orphans[0]}, but the layer has no parameter {orphans[0][5:]}",
                      "hint: the gradient of parameter W must be called grad_W (same spelling, same case)")
    return found


def _grad_name(name):
    """How a parameter's gradient is called: grad_W, or "the gradient of 0.W" in a container."""
    return f"grad_{name}" if name.isidentifier() else f"the gradient of {name}"


def _random_input(shape, rng, domain):
    if domain is None:
        x = rng.standard_normal(shape)
        return np.where(np.abs(x) < KINK, np.copysign(KINK, x), x)
    low, high = domain
    return rng.uniform(low, high, size=shape)


def _replaying(forward, layer):
    """``forward``, but every call first rewinds the random numbers the layer may draw (dropout's mask).

    A layer that draws random numbers in forward must draw the same ones on
    every call of a check, or the numerical gradient differentiates noise:
    each call restores the state of the layer's generator ``layer.rng`` (a
    numpy Generator) and of numpy's global generator (``np.random.rand``) as
    they were when the check began.
    """
    global_state = np.random.get_state()
    generator = getattr(layer, "rng", None)
    generator_state = generator.bit_generator.state if isinstance(generator, np.random.Generator) else None

    def replayed(*args):
        np.random.set_state(global_state)
        if generator_state is not None:
            generator.bit_generator.state = generator_state
        return forward(*args)

    return replayed


def _run_trial(layer, shapes, rng, domain, rtol, atol):
    """Check one layer on inputs of ``shapes``; return (max relative error, gradient names)."""
    forward, fname = _forward_method(layer)
    if forward is None or not callable(getattr(layer, "backward", None)):
        raise _Failed(f"{_name(layer)} has no {'forward' if forward is None else 'backward'} method",
                      "hint: a layer needs forward(x) (or __call__) and backward(dout)")
    if _required_args(forward) == 2 and len(shapes) == 1:
        shapes = shapes * 2  # a two-input node: y has x's shape
    forward = _replaying(forward, layer)
    inputs = [_random_input(shape, rng, domain) for shape in shapes]
    shown = " and ".join(f"{'xy'[k]} of shape {s}" for k, s in enumerate(shapes))
    kept = [x.copy() for x in inputs]
    try:
        out = forward(*inputs)
    except Exception as exc:
        raise _Failed(*_raised(f"{fname}({shown})", exc)) from None
    out = _as_numbers(out, f"{fname}'s output")
    for x, before in zip(inputs, kept):
        if not np.array_equal(x, before):
            raise _Failed(f"{fname} changed its input array in place",
                          "hint: compute a new array (y = x + 1) instead of writing into x (x += 1)")
    dout = rng.standard_normal(out.shape)
    try:
        grads = layer.backward(dout.copy())
    except Exception as exc:
        raise _Failed(*_raised(f"backward(dout of shape {dout.shape})", exc)) from None
    if len(inputs) == 1:
        grads = (grads,)
    elif not (isinstance(grads, (tuple, list)) and len(grads) == 2):
        raise _Failed(f"backward returned {type(grads).__name__}, expected a pair (dx, dy)",
                      "hint: a node with two inputs returns one gradient per input: return dx, dy")
    analytic = {}
    for k, (x, grad) in enumerate(zip(inputs, grads)):
        grad = _as_numbers(grad, f"the gradient backward returned for {'xy'[k]}")
        if grad.shape != x.shape:
            raise _Failed(f"backward returned a gradient of shape {grad.shape} for {'xy'[k]} of shape {x.shape}",
                          "hint: " + _shape_hint(grad.shape, x.shape))
        analytic["xy"[k]] = grad
    params = _parameters(layer)
    for name, param, grad in params:
        grad = _as_numbers(grad, _grad_name(name))
        if grad.shape != param.shape:
            raise _Failed(f"{_grad_name(name)} has shape {grad.shape}, but {name} has shape {param.shape}",
                          "hint: " + _shape_hint(grad.shape, param.shape))
        analytic[name] = grad.copy()  # numerical differentiation below runs forward many times

    def loss(*args):
        return float(np.sum(np.asarray(forward(*[a.copy() for a in args]), dtype=np.float64) * dout))

    errors = []
    for k, x in enumerate(inputs):
        def f_input(value, k=k):
            return loss(*inputs[:k], np.asarray(value), *inputs[k + 1:])
        numeric = _numerical(lambda: numerical_gradient(f_input, x), f"{fname} (run on nearby inputs)")
        errors.append(_compare("d" + "xy"[k], analytic["xy"[k]], numeric, rtol, atol, x.shape[0] if x.ndim else None))
    for name, param, _ in params:
        numeric = _numerical(lambda: numerical_parameter_gradient(lambda: loss(*inputs), param),
                             f"{fname} (run with nearby parameters)")
        errors.append(_compare(_grad_name(name), analytic[name], numeric, rtol, atol, shapes[0][0] if shapes[0] else None))

    # companion's convention: backward overwrites the gradients, so running it twice changes nothing
    try:
        forward(*[x.copy() for x in inputs])
        layer.backward(dout.copy())
    except Exception as exc:
        raise _Failed(*_raised("a second forward and backward on the same input", exc)) from None
    for name, param, grad in _parameters(layer):
        if np.allclose(np.asarray(grad), 2 * analytic[name]) and not np.allclose(analytic[name], 0):
            raise _Failed(f"{_grad_name(name)} doubled when backward ran a second time",
                          "hint: backward must overwrite a parameter's gradient (grad_W = ...), "
                          "not add to it (grad_W += ...)")
    return max(errors), ["xy"[k] for k in range(len(inputs))] + [name for name, _, _ in params]


def _numerical(compute, what):
    """Run a numerical differentiation of the student's code, reporting what it raises."""
    try:
        return np.asarray(compute(), dtype=np.float64)
    except Exception as exc:
        raise _Failed(*_raised(what, exc)) from None


def check_layer(layer, input_shapes=None, *, args=None, seed=0, domain=None, rtol=RTOL, atol=ATOL, verbose=True):
    """Check a layer's ``backward`` against numerical gradients on several random inputs.

    ``layer`` is a class or an instance with ``forward(x)`` (or ``__call__``;
    ``forward(x, y)`` for two-input nodes) and ``backward(dout)``, which returns
    the input's gradient (``(dx, dy)`` for two inputs) and stores parameter
    gradients as ``grad_<name>`` (``grad_W`` for ``W``) or lists them in
    ``named_parameters()`` like ``companion.Linear``.

    A class is created as ``layer()`` when its constructor needs no arguments,
    and as ``layer(in_features, out_features)`` when it needs two; then each
    trial uses new sizes. Pass ``args=(...)`` for other constructors, or pass
    an instance. A constructor that takes ``rng`` gets ``rng=seed``.

    A layer that draws random numbers in ``forward`` (dropout) is checked with
    the same random numbers in every forward pass: the check replays its
    generator ``layer.rng`` (and numpy's global one) before each call.

    ``input_shapes``: the input shape of each trial, e.g. ``[(1, 3), (4, 3)]``
    (a tuple of shapes per trial for two inputs). By default three trials,
    batch sizes 1, 4 and 3. Inputs are standard normal, kept ``0.01`` away
    from 0 (the kink of ReLU); ``domain=(low, high)`` draws them uniformly
    instead (e.g. ``(0.5, 2.0)`` for a logarithm). Everything is seeded by
    ``seed``, so a verdict reproduces.

    Prints the verdict (unless ``verbose=False``) and returns a ``CheckResult``.
    """
    _check_tolerances(rtol, atol, "check_layer")
    if domain is not None and not (len(domain) == 2 and domain[0] < domain[1]):
        raise ValueError(f"check_layer: domain must be (low, high) with low < high, got {domain!r}")
    title = f"check_layer({_name(layer)})"
    state = np.random.get_state()  # layers that draw weights with np.random get the same ones every run
    np.random.seed(seed)
    rng = np.random.default_rng(seed)
    done, errors, names, shapes = [], [], [], None
    try:
        make, trials = _plan(layer, input_shapes, args, seed)
        for sizes, shapes in trials:
            err, names = _run_trial(_make(make, sizes, layer), shapes, rng, domain, rtol, atol)
            errors.append(err)
            done.append(shapes)
    except _Failed as failure:
        where = f" on input shape {' and '.join(map(str, shapes))}" if shapes else ""
        return _finish(f"{title}: FAILED{where}.", failure.lines, False, None, verbose)
    finally:
        np.random.set_state(state)
    shown = ", ".join(" and ".join(map(str, s)) for s in done)
    return _finish(f"{title}: passed.", [
        f"backward agrees with numerical gradients for {', '.join(names)}",
        f"on input shapes {shown};", _passed_below(max(errors), rtol, atol),
    ], True, max(errors), verbose)


# --- check_gradient ----------------------------------------------------------------------------


def check_gradient(f, grad_f, x, *, rtol=RTOL, atol=ATOL, verbose=True):
    """Check a gradient function: ``grad_f(x)`` against the numerical gradient of ``f`` at ``x``.

    ``f`` takes an array shaped like ``x`` (or a number) and returns one
    number; ``grad_f`` returns the gradient, shaped like ``x``. Prints the
    verdict (unless ``verbose=False``) and returns a ``CheckResult``.
    """
    _check_tolerances(rtol, atol, "check_gradient")
    x = as_float_array(x, "x", "check_gradient")
    title = f"check_gradient({_name(grad_f)})"

    def call(func, what):
        try:
            return func(as_output(x.copy()))
        except Exception as exc:
            raise _Failed(*_raised(what, exc)) from None

    try:
        value = _as_numbers(call(f, f"{_name(f)}(x)"), f"{_name(f)}(x)")
        if value.size != 1:
            raise _Failed(f"{_name(f)}(x) returned an array of shape {value.shape}, expected one number",
                          "hint: f must be a scalar function (a loss); to check a function g with array "
                          "output, use f = lambda x: np.sum(g(x) * dout) with a fixed random dout")
        grad = _as_numbers(call(grad_f, f"{_name(grad_f)}(x)"), f"{_name(grad_f)}(x)")
        if grad.shape != x.shape:
            raise _Failed(f"{_name(grad_f)}(x) has shape {grad.shape}, expected x's shape {x.shape}",
                          "hint: " + _shape_hint(grad.shape, x.shape))
        numeric = _numerical(lambda: numerical_gradient(lambda v: f(np.copy(v)), x), f"{_name(f)} (run on points near x)")
        err = _compare(f"{_name(grad_f)}(x)", grad, numeric, rtol, atol, hint=FUNCTION_HINT)
    except _Failed as failure:
        return _finish(f"{title}: FAILED.", failure.lines, False, None, verbose)
    where = "x" if x.size == 1 else f"all {x.size} entries of x"
    return _finish(f"{title}: passed.", [
        f"It agrees with the numerical gradient at {where};", _passed_below(err, rtol, atol),
    ], True, err, verbose)


# --- check_answer: the exercises' answers --------------------------------------------------------


@dataclass(frozen=True)
class ExerciseAnswer:
    """The answer to one exercise, computed (never typed) with companion.

    ``names`` are the quantities the exercise asks for, in order; ``compute()``
    returns their values. An implement-a-backward exercise has ``reference``
    instead, the function the student's layer must compute, and ``domain``
    for its random inputs; or ``verify``, a function that receives
    ``make()`` (a new student layer on each call) and returns the lines of
    what is wrong with its behaviour (``[]`` when nothing is), for a layer
    whose output is not one fixed function of its input (dropout). ``args``
    are the layer's constructor arguments and ``input_shapes`` the input
    shape of each trial of ``check_layer`` (both optional).
    """

    label: str
    chapter: str
    hint: str
    names: tuple = ()
    compute: object = None
    reference: object = None
    domain: tuple = None
    rtol: float = 1e-3  # answers worked out by hand are right to about 3 significant digits
    atol: float = 1e-6
    verify: object = None
    args: tuple = None
    input_shapes: tuple = None

    def expected(self):
        """The expected values as a dict ``{name: value}`` (empty for a layer answer)."""
        return dict(zip(self.names, map(float, self.compute()))) if self.compute else {}


ANSWERS = {}


def register_answer(label, chapter, *, hint, names=(), compute=None, reference=None, domain=None,
                    rtol=1e-3, atol=1e-6, verify=None, args=None, input_shapes=None):
    """Add the answer to the exercise ``label`` of ``chapter`` (the chapter's file name).

    Numeric answers: ``names`` (what is asked, in order) and ``compute``, a
    function returning their values computed with companion. Layer answers:
    ``reference``, the function of the input the layer's forward must compute,
    and/or ``verify``, a check of its behaviour (see ``ExerciseAnswer``);
    ``args`` and ``input_shapes`` say how ``check_layer`` creates and feeds it.
    ``hint`` is shown when an answer is wrong; it must not give the answer away.
    """
    if label in ANSWERS:
        raise ValueError(f"register_answer: an answer for {label!r} is already registered")
    if (compute is None) == (reference is None and verify is None):
        raise ValueError(f"register_answer: {label!r} needs exactly one of compute (with names) or "
                         f"a layer answer (reference and/or verify)")
    if compute is not None and not names:
        raise ValueError(f"register_answer: {label!r} has compute but no names for its values")
    ANSWERS[label] = ExerciseAnswer(label, chapter, hint, tuple(names), compute, reference, domain, rtol, atol,
                                    verify, None if args is None else tuple(args),
                                    None if input_shapes is None else tuple(input_shapes))
    return ANSWERS[label]


def check_answer(label, answer, *, verbose=True):
    """Check your answer to the book's exercise ``label`` (e.g. ``"ex-chain-hand"``).

    For an exercise asking for numbers, ``answer`` is a number (one value
    asked), a tuple of numbers in the order the exercise asks for them, or a
    dict ``{name: value}``; ``companion.checks.ANSWERS[label].names`` lists the names.
    For an implement-a-backward exercise, ``answer`` is your layer class (or
    instance), checked with ``check_layer`` and against the function it must
    compute. Prints the verdict (unless ``verbose=False``) and returns a
    ``CheckResult``; the expected values are never printed.
    """
    if label not in ANSWERS:
        raise ValueError(f"check_answer: no exercise {label!r}; expected one of {sorted(ANSWERS)}")
    entry = ANSWERS[label]
    if entry.reference is not None or entry.verify is not None:
        return _check_layer_answer(entry, answer, verbose)
    title = f"check_answer({label!r})"
    try:
        given = _given_values(entry, answer)
    except _Failed as failure:
        return _finish(f"{title}: not checked.", failure.lines, False, None, verbose)
    expected = entry.expected()
    wrong = [name for name in entry.names
             if not np.isclose(given[name], expected[name], rtol=entry.rtol, atol=entry.atol)]
    shown = ", ".join(f"{name} = {given[name]:.6g}" for name in entry.names)
    if not wrong:
        return _finish(f"{title}: correct.", [f"{shown}."], True, 0.0, verbose)
    right = [name for name in entry.names if name not in wrong]
    return _finish(f"{title}: not yet.", [
        f"{' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right"
        + (f" ({' and '.join(right)} {'is' if len(right) == 1 else 'are'})" if right else ""),
        f"you gave: {shown}",
        f"hint: {entry.hint}",
    ], False, None, verbose)


def _given_values(entry, answer):
    """The student's answer as ``{name: float}``, or _Failed saying which form was expected."""
    names = entry.names
    form = (f"a number" if len(names) == 1 else
            f"{len(names)} numbers in this order: ({', '.join(names)}), or a dict with these names")
    if isinstance(answer, dict):
        unknown = [k for k in answer if k not in names]
        missing = [n for n in names if n not in answer]
        if unknown or missing:
            raise _Failed(f"the answer's names {sorted(map(str, answer))} do not match the exercise's "
                          f"{list(names)}", f"hint: give {form}")
        values = [answer[n] for n in names]
    elif np.ndim(answer) == 0 and len(names) == 1 and not isinstance(answer, (tuple, list)):
        values = [answer]
    elif isinstance(answer, (tuple, list, np.ndarray)) and len(answer) == len(names):
        values = list(answer)
    else:
        count = len(answer) if isinstance(answer, (tuple, list, np.ndarray)) else 1
        raise _Failed(f"the exercise asks for {len(names)} value{'s' if len(names) > 1 else ''}, "
                      f"got {count}", f"hint: give {form}")
    given = {}
    for name, value in zip(names, values):
        try:
            number = float(np.asarray(value, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            raise _Failed(f"{name} must be a number, got {value!r}", f"hint: give {form}") from None
        if not np.isfinite(number):
            raise _Failed(f"{name} is {number}, expected a finite number", f"hint: give {form}")
        given[name] = number
    return given


def _check_layer_answer(entry, answer, verbose):
    title = f"check_answer({entry.label!r})"
    result = check_layer(answer, entry.input_shapes, args=entry.args, domain=entry.domain, verbose=False)
    if not result:
        lines = result.message.splitlines()
        return _finish(f"{title}: not yet. {lines[0]}",
                       [line.strip() for line in lines[1:]] + [f"exercise hint: {entry.hint}"], False, None, verbose)

    def make():
        return answer(*(entry.args or ())) if isinstance(answer, type) else answer

    if entry.reference is not None:
        forward, _ = _forward_method(make())
        x = _random_input(entry.input_shapes[0] if entry.input_shapes else (3, 4), np.random.default_rng(1),
                          entry.domain)
        try:
            _compare("forward's output", _as_numbers(forward(x.copy()), "forward's output"),
                     np.asarray(entry.reference(x)), 1e-9, 1e-12, hint=entry.hint, other="expected")
        except _Failed as failure:
            return _finish(f"{title}: not yet. backward is consistent with forward, but forward computes "
                           f"the wrong function.", failure.lines, False, None, verbose)
    if entry.verify is not None:
        try:
            problems = list(entry.verify(make))
        except Exception as exc:
            problems = _raised("checking the layer's behaviour", exc)
        if problems:
            return _finish(f"{title}: not yet. backward is consistent with forward, but the layer does not "
                           f"behave as the exercise asks.", problems + [f"exercise hint: {entry.hint}"],
                           False, None, verbose)
    does = "computes the right function" if entry.reference is not None else "behaves as the exercise asks"
    return _finish(f"{title}: correct.", [
        f"forward {does}, and backward agrees with",
        f"numerical gradients; max relative error {result.max_error:.0e}.",
    ], True, result.max_error, verbose)
